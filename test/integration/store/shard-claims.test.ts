/**
 * Fencing per shard: with Kafka every input partition is a shard, claimed by the member assigned
 * the partition. A member whose claim was superseded (it was paused past its session timeout and
 * the group moved on) writes nothing for that shard — no commit, no outbox delete, no dead letter —
 * while its successor carries on. Plus the namespace check of the partition sharding.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { ShardFencedError } from '../../../src/core/errors.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../../../src/gatekeeper/gatekeeper.ts';
import { partitionOfKey } from '../../../src/store/redis/partition-of-key.ts';
import { kafkaPartitionSharding } from '../../../src/store/redis/partition-sharding.ts';
import { InvalidConfigError } from '../../../src/index.ts';
import { redisStore, type RedisStore } from '../../../src/store/redis/index.ts';
import { sequenced } from '../../support/events.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

const PARTITIONS = 6;

/** An order key that Kafka's default partitioner puts on `partition`. */
function keyOn(partition: number, from = 0): string {
  for (let i = from; ; i += 1) if (partitionOfKey(`o-${i}`, PARTITIONS) === partition) return `o-${i}`;
}

describe('shard claims on a real Redis (one shard per input partition)', () => {
  let admin: Redis;
  let prefix = '';
  const closing: Array<{ close(): Promise<void> }> = [];
  const member = (owner: string, partitions = PARTITIONS): { store: RedisStore; gatekeeper: Gatekeeper } => {
    const store = redisStore({
      url: REDIS_URL,
      prefix,
      outbox: true,
      shards: partitions,
      sharding: kafkaPartitionSharding(partitions),
      claims: { owner },
    });
    const gatekeeper = createGatekeeperWithStore({ machines, store });
    closing.push(gatekeeper);
    return { store, gatekeeper };
  };

  beforeEach(() => {
    admin = new Redis(REDIS_URL);
    prefix = uniquePrefix('claims');
  });
  afterEach(async () => {
    for (const item of closing.splice(0)) await item.close().catch(() => undefined);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('keeps an entity, its outbox rows and its dead letters in the shard of its key’s partition', async () => {
    const a = member('a');
    const key = keyOn(4);
    await a.store.ownership?.claim(4);
    const o = sequenced('order', key);
    expect(
      (
        await a.gatekeeper.handle(o(1, 'order.placed', { total: 5 }), {
          topic: 't',
          partition: 4,
          offset: '0',
        })
      ).outcome.outcome,
    ).toBe('applied');
    await a.gatekeeper.rejectUnparseable('{', 'not JSON', { topic: 't', partition: 4, offset: '1' });
    expect(await admin.exists(`{${prefix}:4}:e:u5:order${key}`)).toBe(1);
    expect(await admin.xlen(`{${prefix}:4}:outbox`)).toBe(1);
    expect(await admin.xlen(`{${prefix}:4}:dead`)).toBe(1);
    expect((await a.store.ownership?.readOutbox(4, 10))?.map((row) => row.value.key)).toEqual([key]);
  });

  it('a member whose claim was superseded commits, deletes and dead-letters nothing for that shard; its successor carries on', async () => {
    const a = member('a');
    const b = member('b');
    const key = keyOn(2);
    const o = sequenced('order', key);
    const ownA = a.store.ownership;
    const ownB = b.store.ownership;
    if (!ownA || !ownB) throw new Error('claims option not honoured');
    expect(await ownA.claim(2)).toBe(1);
    expect((await a.gatekeeper.handle(o(1, 'order.placed', { total: 5 }))).outcome.outcome).toBe('applied');
    const [row] = await ownA.readOutbox(2, 10);

    // The group moves partition 2 to b while a is paused.
    expect(await ownB.claim(2)).toBe(2);
    const stateBefore = await admin.hgetall(`{${prefix}:2}:e:u5:order${key}`);

    await expect(a.gatekeeper.handle(o(2, 'order.paid', { amount: 5 }))).rejects.toBeInstanceOf(
      ShardFencedError,
    );
    await expect(ownA.ackOutbox(2, [row?.id ?? ''])).rejects.toBeInstanceOf(ShardFencedError);
    await expect(
      a.gatekeeper.rejectUnparseable('{', 'not JSON', { topic: 't', partition: 2, offset: '9' }),
    ).rejects.toBeInstanceOf(ShardFencedError);
    expect(await ownA.stillHeld(2)).toBe(false);
    expect(ownA.held()).toEqual([]);

    expect(await admin.hgetall(`{${prefix}:2}:e:u5:order${key}`)).toEqual(stateBefore);
    expect(await admin.xlen(`{${prefix}:2}:outbox`)).toBe(1);
    expect(await admin.xlen(`{${prefix}:2}:dead`)).toBe(0);
    expect(await admin.hget(`{${prefix}:2}:owner`, 'owner')).toBe('b');

    // b decides from what is stored (per-entity version fencing is untouched) and acks the row.
    expect((await b.gatekeeper.handle(o(2, 'order.paid', { amount: 5 }))).outcome.outcome).toBe('applied');
    await ownB.ackOutbox(2, [row?.id ?? '']);
    expect((await ownB.readOutbox(2, 10)).map((item) => item.value.type)).toEqual(['order.paid']);
  });

  it('refuses a write for a shard this process never claimed, without reaching Redis', async () => {
    const a = member('a');
    const key = keyOn(3);
    await expect(
      a.gatekeeper.handle(sequenced('order', key)(1, 'order.placed', { total: 1 })),
    ).rejects.toThrow(/shard 3 is not held by this process/);
    expect(await admin.exists(`{${prefix}:3}:e:u5:order${key}`)).toBe(0);
  });

  it('the sweeper lists stalled entities of held shards only', async () => {
    const a = member('a');
    const [k0, k1] = [keyOn(0), keyOn(1)];
    await a.store.ownership?.claim(0);
    await a.store.ownership?.claim(1);
    // seq 2 before seq 1: buffered, so the entity shows up as stalled.
    await a.gatekeeper.handle(sequenced('order', k0)(2, 'order.paid', { amount: 1 }));
    await a.gatekeeper.handle(sequenced('order', k1)(2, 'order.paid', { amount: 1 }));
    expect((await a.store.stalled(Date.now() + 1_000, 10)).map((e) => e.key).sort()).toEqual([k0, k1].sort());
    a.store.ownership?.release(1);
    expect((await a.store.stalled(Date.now() + 1_000, 10)).map((e) => e.key)).toEqual([k0]);
  });

  it('refuses a changed partition count and a namespace made with the hash sharding, naming the re-shard command', async () => {
    const a = member('a');
    await a.store.ready();
    const wider = member('wider', PARTITIONS + 2);
    await expect(wider.store.ready()).rejects.toThrow(InvalidConfigError);
    await expect(wider.store.ready()).rejects.toThrow(
      /6 kafka-partitions shards.*8 kafka-partitions shards.*gatekeeper reshard/s,
    );

    const hashPrefix = uniquePrefix('claims-hash');
    const plain = redisStore({ url: REDIS_URL, prefix: hashPrefix, shards: PARTITIONS });
    closing.push(plain);
    await plain.ready();
    const kafka = redisStore({
      url: REDIS_URL,
      prefix: hashPrefix,
      shards: PARTITIONS,
      sharding: kafkaPartitionSharding(PARTITIONS),
    });
    closing.push(kafka);
    await expect(kafka.ready()).rejects.toThrow(/created with 6 hash shards.*gatekeeper reshard/s);
    await deletePrefix(admin, hashPrefix);
  });
});
