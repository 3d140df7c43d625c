/**
 * Outages of the broker and of a topic. Stopping during a broker outage always stops: within
 * shutdownTimeoutMs plus a margin, with a line saying what was left unpublished, and the consumer
 * never rejoins the group afterwards (a kafkajs restart scheduled by the outage would otherwise
 * survive disconnect()). A dead-letter topic deleted under load and created again later loses no
 * dead letter. Runs on a broker of its own (stopped and started; topics are never auto-created, so
 * a deleted topic stays missing until the test creates it again).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoStream } from '../../../src/demo/stream.ts';
import {
  client,
  committedTotal,
  createTopics,
  deleteTopics,
  eventMessage,
  produce,
  readTopic,
  startOwnBroker,
  topicSize,
  type Broker,
} from './support/kafka.ts';
import { HEADERS } from '../../../src/kafka/index.ts';
import { freePort, REDIS_URL } from '../store/support/redis-servers.ts';
import { startGatekeeper, writeConfig } from './support/processes.ts';
import { setUp, waitFor, waitUntilCaughtUp, type TestSetup } from './support/runtime.ts';

const SHUTDOWN_MS = 4_000;
/** Leaving the group, the producer and the store get a few seconds more each at most. */
const MARGIN_MS = 8_000;

let broker: Broker | undefined;
const setups: TestSetup[] = [];

beforeAll(async () => {
  // Ports of its own: other test files (and other engineers' runs) start brokers on the default.
  broker = await startOwnBroker({
    KAFKA_PORT: String(await freePort()),
    KAFKA_CONTROLLER_PORT: String(await freePort()),
    KAFKA_EXTRA_PROPS: 'auto.create.topics.enable=false',
  });
}, 600_000);
afterAll(async () => {
  try {
    await (broker as Broker).restart().catch(() => undefined);
    for (const setup of setups) await setup.cleanup();
  } finally {
    await broker?.stop();
  }
}, 180_000);

/** Limits that keep the relays behind the decisions, so rows are waiting when the broker goes. */
const slowRelays = {
  sessionTimeoutMs: 10_000,
  heartbeatIntervalMs: 1_000,
  relayBatchSize: 20,
  relayIdleMs: 200,
  shutdownTimeoutMs: SHUTDOWN_MS,
};

async function feed(setup: TestSetup): Promise<number> {
  const stream = demoStream({ entities: 600, seed: 5, duplicateRate: 0, illegalRate: 0, garbageRate: 0 });
  await produce(setup.brokers, setup.input, stream.inputs.map(eventMessage));
  return stream.inputs.length;
}

async function groupMembers(brokers: string, group: string): Promise<number> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const { groups } = await admin.describeGroups([group]);
    return groups[0]?.members.length ?? 0;
  } finally {
    await admin.disconnect();
  }
}

it('stop() during a broker outage returns in time, says what is unpublished, and never rejoins the group', async () => {
  const own = broker as Broker;
  const setup = await setUp(own.brokers, 'outage-stop', 2);
  setups.push(setup);
  const lines: string[] = [];
  let outage = false;
  let stopped: { at: number; done: Promise<void> } | undefined;
  const running = await setup.start(
    { limits: slowRelays },
    {
      logger: (level, message) => {
        lines.push(`${level} ${message}`);
        // Stop in the middle of kafkajs's crash handling (it logs "Crash:", disconnects, then
        // schedules a restart): that restart must not survive the stop and rejoin the group.
        if (outage && stopped === undefined && message.includes('Crash:'))
          stopped = { at: Date.now(), done: running.stop() };
      },
    },
  );
  const total = await feed(setup);
  await waitFor(
    'part of the input committed',
    async () => (await committedTotal(own.brokers, setup.group, setup.input)) > 0,
  );
  await own.stop({ keep: true });
  outage = true;
  await waitFor('the consumer crash', () => Promise.resolve(stopped !== undefined), 120_000);
  const { at, done } = stopped as { at: number; done: Promise<void> };
  await done;
  expect(Date.now() - at).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
  const stoppedAt = lines.findIndex((line) => line === 'info stopped');
  expect(stoppedAt).toBeGreaterThan(-1);
  expect(lines.join('\n')).toMatch(
    /stopped with (at least )?\d+ transitions and (at least )?\d+ dead letters not published within shutdownTimeoutMs .*published after the next start/,
  );

  await own.restart();
  // Longer than kafkajs's restart back-off: a surviving restart would have joined by now.
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  expect(await groupMembers(own.brokers, setup.group)).toBe(0);
  expect(lines.slice(stoppedAt + 1).filter((line) => line.includes('consuming'))).toEqual([]);
  expect(await topicSize(own.brokers, setup.output)).toBeLessThan(total);
}, 300_000);

it('gatekeeper run exits within shutdownTimeoutMs on SIGTERM during a broker outage, naming what it left', async () => {
  const own = broker as Broker;
  const setup = await setUp(own.brokers, 'outage-sigterm', 2);
  setups.push(setup);
  const configFile = writeConfig(setup.config({ limits: slowRelays }));
  const gatekeeper = startGatekeeper('outage-sigterm', configFile);
  await gatekeeper.consuming;
  await feed(setup);
  await waitFor(
    'part of the input committed',
    async () => (await committedTotal(own.brokers, setup.group, setup.input)) > 0,
  );
  await own.stop({ keep: true });
  await waitFor('the outage logged', () => Promise.resolve(/ (WARN|ERROR) /.test(gatekeeper.log())), 60_000);
  const started = Date.now();
  gatekeeper.kill('SIGTERM');
  const exit = await gatekeeper.exited;
  const took = Date.now() - started;
  expect(took, gatekeeper.log()).toBeLessThan(SHUTDOWN_MS + MARGIN_MS);
  expect(exit.code, gatekeeper.log()).toBe(0);
  const log = gatekeeper.log();
  expect(log).toMatch(/not published within shutdownTimeoutMs/);
  // Every line is timestamped and levelled.
  for (const line of log.trim().split('\n'))
    expect(line).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (INFO |WARN |ERROR) gatekeeper run: /);
  await own.restart();
}, 240_000);

it('loses no dead letter while the dead-letter topic is deleted under load and created again 10 s later', async () => {
  const own = broker as Broker;
  const setup = await setUp(own.brokers, 'dead-topic-gone', 2);
  setups.push(setup);
  const total = 10_000;
  const warnings: string[] = [];
  const running = await setup.start(
    // A bound far below the burst: while the topic is missing the input must wait, never trim.
    { redis: { url: REDIS_URL, prefix: setup.prefix, deadLetterLimit: 400 } },
    {
      logger: (level, message, extra) => {
        if (level !== 'info') warnings.push(`${message} ${JSON.stringify(extra ?? {})}`);
      },
    },
  );
  await deleteTopics(own.brokers, [setup.deadLetter]);
  await waitFor('the topic gone', async () => {
    const admin = client(own.brokers).admin();
    await admin.connect();
    try {
      return !(await admin.listTopics()).includes(setup.deadLetter);
    } finally {
      await admin.disconnect();
    }
  });
  const garbage = Array.from({ length: total }, (_, n) => ({
    key: `g-${n}`,
    value: `garbage ${n}`,
    partition: n % 2,
  }));
  await produce(own.brokers, setup.input, garbage, 2_000);
  await new Promise((resolve) => setTimeout(resolve, 10_000));
  expect(
    await committedTotal(own.brokers, setup.group, setup.input),
    'back-pressure held the input',
  ).toBeLessThan(total);
  await createTopics(own.brokers, [setup.deadLetter], 2);
  await waitUntilCaughtUp(setup, total, 120_000);
  await waitFor(
    'every dead letter',
    async () => (await topicSize(own.brokers, setup.deadLetter)) >= total,
    120_000,
  );
  await running.stop();
  const letters = await readTopic(own.brokers, setup.deadLetter);
  const sources = new Set(
    letters.map(
      (record) => `${record.headers[HEADERS.sourcePartition]}/${record.headers[HEADERS.sourceOffset]}`,
    ),
  );
  expect(sources.size).toBe(total);
  // The operator was told which topic could not be written (by the relay, or kafkajs's own line).
  expect(
    warnings.some((line) => line.includes(setup.deadLetter)),
    warnings.slice(0, 5).join('\n'),
  ).toBe(true);
}, 240_000);
