/**
 * `gatekeeper run` configuration: zod validation with clear errors, config files (.json, .mjs)
 * with flags overriding them, and the command run from flags alone against a real broker.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { InvalidConfigError } from '../../../src/core/errors.ts';
import { loadRunConfigFile, parseRunConfig } from '../../../src/kafka/index.ts';
import { withSaslPassword } from '../../../src/kafka/kafka-client.ts';
import { captureIO } from '../../support/cli-io.ts';
import { deletePrefixAt, REDIS_URL } from '../store/support/redis-servers.ts';
import { eventMessage, produce, readCommitted } from './support/kafka.ts';
import { useSharedBroker, waitFor } from './support/runtime.ts';

const minimal = {
  machines: './machines/index.ts',
  brokers: '127.0.0.1:9092, 127.0.0.1:9093',
  groupId: 'g',
  topics: { input: 'a,b', output: 'out', deadLetter: 'dead' },
};

describe('run configuration', () => {
  it('fills defaults and accepts comma lists for brokers and input topics', () => {
    const config = parseRunConfig(minimal);
    expect(config.brokers).toEqual(['127.0.0.1:9092', '127.0.0.1:9093']);
    expect(config.topics.input).toEqual(['a', 'b']);
    expect(config.clientId).toBe('gatekeeper');
    expect(config.fromBeginning).toBe(true);
    expect(config.limits.maxInFlight).toBe(1_000);
    expect(config.redis).toBeUndefined();
  });

  it('delivers exactly once by default with a Redis store, at least once without one, and as asked either way', () => {
    expect(parseRunConfig(minimal).delivery).toBe('at-least-once');
    expect(parseRunConfig({ ...minimal, redis: 'redis://127.0.0.1:6379' }).delivery).toBe('exactly-once');
    expect(parseRunConfig({ ...minimal, redis: { url: 'redis://127.0.0.1:6379' } }).delivery).toBe(
      'exactly-once',
    );
    expect(
      parseRunConfig({ ...minimal, redis: 'redis://127.0.0.1:6379', delivery: 'at-least-once' }).delivery,
    ).toBe('at-least-once');
    expect(parseRunConfig({ ...minimal, delivery: 'exactly-once' }).delivery).toBe('exactly-once');
  });

  it('accepts SSL and SASL (plain, scram-sha-256, scram-sha-512) and Redis options', () => {
    for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
      const config = parseRunConfig({
        ...minimal,
        ssl: { rejectUnauthorized: false },
        sasl: { mechanism, username: 'u', password: 'p' },
        redis: { url: 'rediss://r:6380', prefix: 'gk', operationTimeoutMs: 5_000 },
      });
      expect(config.sasl?.mechanism).toBe(mechanism);
    }
  });

  it.each([
    [{ ...minimal, brokers: 'localhost' }, 'brokers.0: a broker must look like host:port'],
    [{ ...minimal, groupID: 'typo' }, 'groupID'],
    [{ ...minimal, topics: { input: 'a', output: 'out' } }, 'topics.deadLetter'],
    [{ ...minimal, sasl: { mechanism: 'oauthbearer', username: 'u', password: 'p' } }, 'sasl.mechanism'],
    [{ ...minimal, redis: 'http://redis' }, 'redis'],
    [{ ...minimal, limits: { maxInFlight: 0 } }, 'limits.maxInFlight'],
  ])('refuses a bad configuration with an error naming the field (%#)', (input, field) => {
    expect(() => parseRunConfig(input)).toThrow(InvalidConfigError);
    expect(() => parseRunConfig(input)).toThrow(field);
  });

  it('takes the SASL password from a file (never the command line), refuses password and passwordFile together', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gk-sasl-'));
    try {
      const file = join(dir, 'password');
      writeFileSync(file, 'from-the-file\n');
      const parsed = parseRunConfig({
        ...minimal,
        sasl: { mechanism: 'scram-sha-512', username: 'u', passwordFile: file },
        redis: { url: 'redis://127.0.0.1:6379', deadLetterLimit: 10, deadLetterByteLimit: 1_000 },
      });
      expect((await withSaslPassword(parsed)).sasl).toEqual({
        mechanism: 'scram-sha-512',
        username: 'u',
        password: 'from-the-file',
      });
      expect(() =>
        parseRunConfig({
          ...minimal,
          sasl: { mechanism: 'plain', username: 'u', password: 'p', passwordFile: file },
        }),
      ).toThrow(/sasl.*not both/);
      await expect(
        withSaslPassword(
          parseRunConfig({
            ...minimal,
            sasl: { mechanism: 'plain', username: 'u', passwordFile: join(dir, 'missing') },
          }),
        ),
      ).rejects.toThrow(/cannot read sasl.passwordFile/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reads .json, .mjs and .ts config files, resolving machines against the file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gk-config-'));
    writeFileSync(join(dir, 'a.json'), JSON.stringify(minimal));
    writeFileSync(join(dir, 'b.mjs'), `export default ${JSON.stringify({ ...minimal, machines: 'm.mjs' })};`);
    writeFileSync(join(dir, 'bad.json'), '{ nope');
    writeFileSync(
      join(dir, 'c.ts'),
      `export const config: Record<string, unknown> = ${JSON.stringify(minimal)};`,
    );
    expect(parseRunConfig(await loadRunConfigFile(join(dir, 'c.ts'))).groupId).toBe('g');
    expect((await loadRunConfigFile(join(dir, 'a.json'))).machines).toBe(resolve(dir, 'machines/index.ts'));
    expect((await loadRunConfigFile(join(dir, 'b.mjs'))).machines).toBe(resolve(dir, 'm.mjs'));
    await expect(loadRunConfigFile(join(dir, 'bad.json'))).rejects.toThrow(/not valid JSON/);
    await expect(loadRunConfigFile(join(dir, 'missing.json'))).rejects.toThrow(/not found/);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gatekeeper run reports a bad configuration and exits 1, a missing --machines with usage and exit 2', async () => {
    const io = captureIO();
    expect(
      await main(['run', '--machines', 'machines/index.ts', '--brokers', 'nohost', '--group', 'g'], io),
    ).toBe(1);
    expect(io.err()).toMatch(/invalid gatekeeper run configuration: .*brokers/);
    const io2 = captureIO();
    expect(await main(['run', '--brokers', '127.0.0.1:1'], io2)).toBe(2);
    expect(io2.err()).toMatch(/--machines/);
  });
});

describe('gatekeeper run from flags alone', () => {
  const setUpTest = useSharedBroker();

  it('consumes, publishes, serves Kafka metrics and stops cleanly on SIGINT with exit code 0', async () => {
    const setup = await setUpTest('flags', 1);
    const io = captureIO();
    // The flags give no prefix, so the store uses its default one: keep it in a database of its own.
    const redisUrl = `${REDIS_URL.replace(/\/\d+$/, '')}/14`;
    const exit = main(
      [
        'run',
        '--machines',
        'machines/index.ts',
        '--brokers',
        setup.brokers,
        '--group',
        setup.group,
        '--input',
        setup.input,
        '--output',
        setup.output,
        '--dead-letter',
        setup.deadLetter,
        '--redis',
        redisUrl,
        '--metrics-port',
        '0',
      ],
      io,
    );
    await io.waitFor('err', /consuming/);
    const key = `f-${process.pid}-${Date.now()}`;
    const order = {
      id: key,
      aggregate: 'order',
      key,
      seq: 1,
      type: 'order.placed',
      payload: { total: 1, currency: 'EUR' },
    };
    await produce(setup.brokers, setup.input, [eventMessage(order)]);
    // With Redis the default delivery is exactly-once: a read_committed reader sees the transition.
    await waitFor(
      'the transition',
      async () => (await readCommitted(setup.brokers, setup.output, 1_000)).length === 1,
    );
    const [, url] = await io.waitFor('err', /metrics: (http:\S+)/);
    // The lag is reported once the batch's offsets are resolved, which may come after the relay
    // published its transition: wait for it rather than reading the endpoint once.
    const lag = /gatekeeper_kafka_consumer_lag\{[^}]*topic="t-flags-in/;
    await waitFor('the consumer lag metric', async () => lag.test(await (await fetch(url as string)).text()));
    // With Redis the member names the input partition it owns.
    expect(await (await fetch(url as string)).text()).toMatch(
      /gatekeeper_kafka_owned_partition\{partition="0"\} 1/,
    );
    io.interrupt();
    expect(await exit).toBe(0);
    expect(io.err()).toMatch(/stopped \(published 1 transitions, 0 dead letters\)/);
    await deletePrefixAt(redisUrl, 'gk');
  }, 60_000);
});
