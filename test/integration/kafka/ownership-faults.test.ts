/**
 * Two exactly-once members on a broker and a Redis of this file's own, each stopped and started
 * again mid-stream: the members ride the outage out (the store's and the producers' retries, the
 * consumers' restarts) and the read_committed output still holds every transition exactly once,
 * in per-entity order, and every dead letter.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoStream } from '../../../src/demo/stream.ts';
import type { RunningGatekeeper } from '../../../src/kafka/index.ts';
import { startOwnRedis, type OwnRedis } from '../store/support/redis-servers.ts';
import { expectationFor, expectExactlyOnce } from './support/expected.ts';
import { committedTotal, eventMessage, produce, startOwnBroker, type Broker } from './support/kafka.ts';
import { setUp, waitFor, waitUntilCaughtUp, type TestSetup } from './support/runtime.ts';

let broker: Broker | undefined;
let redis: OwnRedis | undefined;
const setups: TestSetup[] = [];

beforeAll(async () => {
  broker = await startOwnBroker();
  redis = await startOwnRedis({ durable: true });
}, 600_000);
afterAll(async () => {
  try {
    for (const setup of setups) await setup.cleanup().catch(() => undefined);
  } finally {
    await redis?.destroy();
    await broker?.stop();
  }
}, 120_000);

async function twoMembersThrough(name: string, outage: () => Promise<void>): Promise<void> {
  const own = broker as Broker;
  const stream = demoStream({
    entities: 500,
    seed: 37,
    duplicateRate: 0.15,
    illegalRate: 0.05,
    garbageRate: 0.005,
  });
  const expected = await expectationFor(stream);
  const setup = await setUp(own.brokers, name, 6);
  setups.push(setup);
  const total = stream.inputs.length;
  const third = Math.ceil(total / 3);
  // A third before the outage, the rest after it: the outage lands mid-stream by construction.
  await produce(setup.brokers, setup.input, stream.inputs.slice(0, third).map(eventMessage));
  const member = (clientId: string): Promise<RunningGatekeeper> =>
    setup.start({
      clientId,
      delivery: 'exactly-once',
      redis: { url: (redis as OwnRedis).url, prefix: setup.prefix, operationTimeoutMs: 2_000 },
      limits: {
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1_000,
        relayIdleMs: 50,
        maxBytesPerPartition: 4_096,
        relayBatchSize: 50,
      },
    });
  const [a, b] = await Promise.all([member(`${name}-a`), member(`${name}-b`)]);
  await waitFor(
    'some input committed',
    async () => (await committedTotal(own.brokers, setup.group, setup.input)) > 0,
  );
  const before = await committedTotal(own.brokers, setup.group, setup.input);
  await outage();
  await produce(setup.brokers, setup.input, stream.inputs.slice(third).map(eventMessage));
  await waitUntilCaughtUp(setup, total, 150_000);
  await waitFor(
    'the outboxes to drain',
    async () => {
      const rows = await Promise.all(
        [a, b].flatMap((m) => [m.gatekeeper.store.readOutbox(1), m.gatekeeper.store.readDeadLetters(1)]),
      );
      return rows.every((list) => list.length === 0);
    },
    120_000,
  );
  await Promise.all([a.stop(), b.stop()]);

  expect(before).toBeLessThan(total);
  const { output } = await expectExactlyOnce(setup, expected);
  console.log(
    `${name}: ${total} input records, ${output.records} read_committed output records, ${output.duplicates} duplicates`,
  );
}

it('two exactly-once members ride out a Redis restart mid-stream: every transition once, in order', async () => {
  await twoMembersThrough('eos-redis-restart', async () => {
    await (redis as OwnRedis).stop();
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await (redis as OwnRedis).start();
  });
}, 300_000);

it('two exactly-once members ride out a broker restart mid-stream: every transition once, in order', async () => {
  await twoMembersThrough('eos-broker-restart', async () => {
    await (broker as Broker).stop({ keep: true });
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    await (broker as Broker).restart();
  });
}, 300_000);
