/**
 * `gatekeeper run` against a SASL_SSL listener (SCRAM-SHA-512 over TLS with a CA made here):
 * end to end with the password from a file, wrong credentials and a wrong CA refused within
 * seconds with one clear line, and no secret in any log line, even with --verbose. The broker is
 * this file's own: a PLAINTEXT listener for the test's own clients, and the SASL_SSL one.
 */
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, makeTlsFiles } from '../store/support/redis-servers.ts';
import { sequenced } from '../../support/events.ts';
import {
  createTopics,
  eventMessage,
  produce,
  readTopic,
  startOwnBroker,
  uniqueName,
  type Broker,
} from './support/kafka.ts';
import { startGatekeeper, writeConfig } from './support/processes.ts';
import { waitFor } from './support/runtime.ts';

const run = promisify(execFile);

const USER = 'gk-user';
const PASSWORD = 'S3cr3t@pw:with/odd-chars';
const STORE_PASSWORD = 'keystore-pass-123';

let broker: Broker | undefined;
let saslBrokers = '';
let ca = '';
let wrongCa = '';
let passwordFile = '';
const cleanups: (() => void)[] = [];

/** The broker JVM's classpath, to run Kafka's own ConfigCommand with the same jars. */
function brokerClasspath(runDir: string): string {
  const pid = readFileSync(join(runDir, 'kafka.pid'), 'utf8').trim();
  const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
  const at = args.indexOf('-cp');
  if (at < 0) throw new Error('the broker has no -cp argument');
  return args[at + 1] as string;
}

beforeAll(async () => {
  const tls = await makeTlsFiles();
  const other = await makeTlsFiles();
  cleanups.push(
    () => tls.remove(),
    () => other.remove(),
  );
  const keystore = join(tls.dir, 'server.p12');
  await run('openssl', [
    'pkcs12',
    '-export',
    '-in',
    tls.cert,
    '-inkey',
    tls.key,
    '-out',
    keystore,
    '-passout',
    `pass:${STORE_PASSWORD}`,
  ]);
  ca = readFileSync(tls.ca, 'utf8');
  wrongCa = readFileSync(other.ca, 'utf8');
  passwordFile = join(tls.dir, 'kafka-password');
  writeFileSync(passwordFile, `${PASSWORD}\n`, { mode: 0o600 });

  const [port, controller, sasl] = [await freePort(), await freePort(), await freePort()];
  broker = await startOwnBroker({
    KAFKA_PORT: String(port),
    KAFKA_CONTROLLER_PORT: String(controller),
    KAFKA_EXTRA_PROPS: [
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controller},SASL_SSL://127.0.0.1:${sasl}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${sasl}`,
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL',
      'sasl.enabled.mechanisms=SCRAM-SHA-512',
      'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;',
      `ssl.keystore.location=${keystore}`,
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.password=${STORE_PASSWORD}`,
      `ssl.key.password=${STORE_PASSWORD}`,
    ].join('\n'),
  });
  saslBrokers = `127.0.0.1:${sasl}`;
  await run(
    'java',
    [
      '-cp',
      brokerClasspath(broker.runDir as string),
      'kafka.admin.ConfigCommand',
      '--bootstrap-server',
      broker.brokers,
      '--alter',
      '--entity-type',
      'users',
      '--entity-name',
      USER,
      '--add-config',
      `SCRAM-SHA-512=[iterations=4096,password=${PASSWORD}]`,
    ],
    { timeout: 120_000 },
  );
}, 600_000);

afterAll(async () => {
  try {
    await broker?.stop();
  } finally {
    for (const cleanup of cleanups) cleanup();
  }
}, 120_000);

/** A run config on the SASL_SSL listener, without the password (it comes from a file or the environment). */
function saslConfig(name: string, caPem: string) {
  const topics = {
    input: [uniqueName(`${name}-in`)],
    output: uniqueName(`${name}-out`),
    deadLetter: uniqueName(`${name}-dead`),
  };
  return {
    topics,
    file: writeConfig({
      machines: 'machines/index.ts',
      brokers: saslBrokers,
      groupId: uniqueName(`${name}-group`),
      topics,
      ssl: { ca: caPem },
      sasl: { mechanism: 'scram-sha-512', username: USER },
      limits: { sessionTimeoutMs: 10_000, heartbeatIntervalMs: 1_000, relayIdleMs: 50 },
    }),
  };
}

function expectNoSecret(log: string): void {
  expect(log).not.toContain(PASSWORD);
  expect(log).not.toContain(encodeURIComponent(PASSWORD));
  expect(log).not.toContain(STORE_PASSWORD);
}

describe('gatekeeper run on a SASL_SSL broker (SCRAM-SHA-512 + TLS)', () => {
  it('gates end to end with the password from a file, and no log line shows it, even with --verbose', async () => {
    const { topics, file } = saslConfig('sasl-e2e', ca);
    const plain = (broker as Broker).brokers;
    await createTopics(plain, [...topics.input, topics.output, topics.deadLetter], 1);
    const gatekeeper = startGatekeeper('sasl-e2e', file, ['--sasl-password-file', passwordFile, '--verbose']);
    await gatekeeper.consuming;
    const events = sequenced('order', 'o-1');
    await produce(plain, topics.input[0] as string, [
      eventMessage(events(1, 'order.placed', { total: 10, currency: 'EUR' })),
      eventMessage(events(2, 'order.paid', { amount: 10 })),
    ]);
    await waitFor('two transitions', async () => (await readTopic(plain, topics.output)).length >= 2, 60_000);
    gatekeeper.kill('SIGTERM');
    expect((await gatekeeper.exited).code).toBe(0);
    const log = gatekeeper.log();
    expect(log).toContain('consuming');
    expectNoSecret(log);
  }, 180_000);

  it('refuses wrong credentials within seconds in one line naming the broker and the SASL failure', async () => {
    const { file } = saslConfig('sasl-wrong-pw', ca);
    const started = Date.now();
    const gatekeeper = startGatekeeper('sasl-wrong-pw', file, ['--verbose'], {
      KAFKA_SASL_PASSWORD: `${PASSWORD}-wrong`,
    });
    gatekeeper.consuming.catch(() => undefined); // it is meant to exit before consuming
    const exit = await gatekeeper.exited;
    const log = gatekeeper.log();
    expect(exit.code, log).toBe(1);
    expect(Date.now() - started).toBeLessThan(30_000);
    const last = log.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(
      /ERROR gatekeeper run: cannot start on Kafka 127\.0\.0\.1:\d+: .*SASL.*(authentication|Authentication)/,
    );
    expect(log).not.toMatch(/\n\s+at /);
    expectNoSecret(log);
    expect(log).not.toContain(`${PASSWORD}-wrong`);
  }, 120_000);

  it('refuses a broker certificate from another CA within seconds in one line naming the TLS failure', async () => {
    const { file } = saslConfig('sasl-wrong-ca', wrongCa);
    const started = Date.now();
    const gatekeeper = startGatekeeper('sasl-wrong-ca', file, ['--sasl-password-file', passwordFile]);
    gatekeeper.consuming.catch(() => undefined); // it is meant to exit before consuming
    const exit = await gatekeeper.exited;
    const log = gatekeeper.log();
    expect(exit.code, log).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    const last = log.trim().split('\n').at(-1) ?? '';
    expect(last).toMatch(/ERROR gatekeeper run: cannot start on Kafka 127\.0\.0\.1:\d+: .*certificate/i);
    expect(log).not.toMatch(/\n\s+at /);
    expectNoSecret(log);
  }, 120_000);
});
