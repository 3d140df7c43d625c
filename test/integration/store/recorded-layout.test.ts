/**
 * A store opened with `recordedLayout` (the operator commands' way into a namespace that
 * `gatekeeper run` made, one shard per input partition) reads the recorded layout before its first
 * operation by itself: no caller has to remember to `await ready()` first.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { kafkaPartitionSharding } from '../../../src/store/redis/partition-sharding.ts';
import { sequenced } from '../../support/events.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

describe('a store opened with recordedLayout', () => {
  let admin: Redis;
  let prefix = '';
  const closing: Array<{ close(): Promise<void> }> = [];
  const keys = Array.from({ length: 24 }, (_, i) => `order-${i}`);

  beforeEach(async () => {
    admin = new Redis(REDIS_URL);
    prefix = uniquePrefix('recorded-layout');
    // A namespace as `gatekeeper run` makes it on a 3-partition input: 3 shards, Kafka's partitioner.
    const store = redisStore({
      url: REDIS_URL,
      prefix,
      outbox: true,
      shards: 3,
      sharding: kafkaPartitionSharding(3),
      claims: { owner: 'runner' },
    });
    const gatekeeper = createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0 });
    for (let partition = 0; partition < 3; partition += 1) await store.ownership?.claim(partition);
    for (const key of keys) await gatekeeper.handle(sequenced('order', key)(1, 'order.placed', { total: 4 }));
    await gatekeeper.close();
  });
  afterEach(async () => {
    for (const item of closing.splice(0)) await item.close().catch(() => undefined);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('finds every entity, its history and the outbox on its very first calls, without ready()', async () => {
    const store = redisStore({ url: REDIS_URL, prefix, recordedLayout: true });
    closing.push(store);
    // All at once, before anything resolved: each call must wait for the layout on its own.
    const [entities, histories, outbox] = await Promise.all([
      Promise.all(keys.map((key) => store.load({ aggregate: 'order', key }))),
      Promise.all(keys.map((key) => store.history({ aggregate: 'order', key }))),
      store.readOutbox(1_000),
    ]);
    expect(entities.map((entity) => entity?.version)).toEqual(keys.map(() => 1));
    expect(histories.map((history) => history.length)).toEqual(keys.map(() => 1));
    expect(outbox).toHaveLength(keys.length);
    expect(store.keys.shards).toBe(3);
  });

  it('still answers ready(), after which keys shows the recorded layout', async () => {
    const store = redisStore({ url: REDIS_URL, prefix, recordedLayout: true });
    closing.push(store);
    await store.ready();
    expect(store.keys.shards).toBe(3);
    expect(await store.versions()).not.toHaveLength(0);
  });

  it('a store without recordedLayout keeps the layout it was given (the hash shards) and refuses the Kafka namespace', async () => {
    const store = redisStore({ url: REDIS_URL, prefix });
    closing.push(store);
    await expect(store.load({ aggregate: 'order', key: keys[0] as string })).rejects.toThrow(
      /reshard|shard/i,
    );
  });
});
