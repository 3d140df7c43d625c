/**
 * Failures of the store under the Kafka runtime, decided by the error's `retriable` flag: a Redis
 * restart (retriable) is ridden out with nothing lost; an error retrying cannot fix stops the
 * runner, rejects `done` with that error and commits no offset past the failed record.
 */
import { Redis } from 'ioredis';
import { afterEach, expect, it } from 'vitest';
import { GatekeeperError } from '../../../src/core/errors.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import type { EntityStore } from '../../../src/store/entity-store.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import { deletePrefix, startOwnRedis, type OwnRedis } from '../store/support/redis-servers.ts';
import { expectationFor, expectEverythingPublished } from './support/expected.ts';
import { committedTotal, eventMessage, produce } from './support/kafka.ts';
import { useSharedBroker, waitFor, waitUntilCaughtUp } from './support/runtime.ts';

let redis: OwnRedis | undefined;

// Registered first so it runs after the setups' cleanup, which stops runners still using it.
afterEach(async () => {
  await redis?.destroy();
  redis = undefined;
});
const setUpTest = useSharedBroker();

it('rides out a Redis restart during processing: the failed batches are retried and nothing is lost', async () => {
  redis = await startOwnRedis({ durable: true });
  const stream = demoStream({
    entities: 800,
    seed: 31,
    duplicateRate: 0.15,
    illegalRate: 0.05,
    garbageRate: 0.005,
  });
  const expected = await expectationFor(stream);
  const setup = await setUpTest('redis-restart', 3);
  await produce(setup.brokers, setup.input, stream.inputs.map(eventMessage));
  const total = stream.inputs.length;
  const retries: string[] = [];
  const running = await setup.start(
    {
      redis: { url: redis.url, prefix: setup.prefix, operationTimeoutMs: 2_000 },
      limits: {
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1_000,
        maxBytesPerPartition: 4_096,
        relayBatchSize: 50,
      },
    },
    { metrics: { retry: (where) => retries.push(where) } },
  );
  await waitFor(
    'a fifth of the input committed',
    async () => (await committedTotal(setup.brokers, setup.group, setup.input)) >= total / 5,
  );
  const committedBeforeStop = await committedTotal(setup.brokers, setup.group, setup.input);
  await redis.stop();
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await redis.start();
  await waitUntilCaughtUp(setup, total, 150_000);
  await running.stop();
  await running.done;

  expect(committedBeforeStop).toBeLessThan(total);
  expect(retries.length, 'the outage reached the runtime').toBeGreaterThan(0);
  await expectEverythingPublished(setup, expected);
  const client = new Redis(redis.url);
  await deletePrefix(client, setup.prefix);
  await client.quit();
}, 240_000);

it('stops on an error retrying cannot fix: done rejects with it and no offset past the failed record is committed', async () => {
  const inner = memoryStore({ outbox: true });
  const broken = new GatekeeperError('the store refuses this entity', {
    code: 'TEST_BROKEN',
    retriable: false,
  });
  // The memory store with a commit that fails for one entity (and without its synchronous fast
  // path, which would bypass the wrapped commit).
  const store: EntityStore = Object.assign(Object.create(inner) as EntityStore, {
    sync: undefined,
    commit: (ref: Parameters<EntityStore['commit']>[0], commit: Parameters<EntityStore['commit']>[1]) =>
      ref.key === 'poison' ? Promise.reject(broken) : inner.commit(ref, commit),
  });
  const setup = await setUpTest('non-retriable', 1);
  const placed = (key: string) => ({
    id: `${key}-1`,
    aggregate: 'order',
    key,
    seq: 1,
    type: 'order.placed',
    payload: { total: 5, currency: 'EUR' },
  });
  await produce(
    setup.brokers,
    setup.input,
    ['a', 'b', 'c', 'poison', 'd', 'e'].map((key) => eventMessage(placed(key))),
  );
  const running = await setup.start({}, { store });
  await expect(running.done).rejects.toBe(broken);
  expect(await committedTotal(setup.brokers, setup.group, setup.input)).toBeLessThanOrEqual(3);
}, 30_000);
