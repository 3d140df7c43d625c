/**
 * `gatekeeper reshard`: with Kafka one shard is one input partition, so a changed partition count
 * is refused until the namespace is re-sharded. Re-sharding moves every entity (state, history,
 * stalled and parked entries) to its key's new partition, is refused while rows wait to be
 * published, and the operator commands read a re-sharded (or any Kafka-made) namespace as it is.
 */
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../../../src/gatekeeper/gatekeeper.ts';
import { redisStore, type RedisStore } from '../../../src/store/redis/index.ts';
import { partitionOfKey } from '../../../src/store/redis/partition-of-key.ts';
import { kafkaPartitionSharding } from '../../../src/store/redis/partition-sharding.ts';
import { runCli } from '../../support/cli-io.ts';
import { sequenced } from '../../support/events.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

describe('re-sharding a Kafka namespace', () => {
  let admin: Redis;
  let prefix = '';
  const closing: Array<{ close(): Promise<void> }> = [];
  const open = (
    partitions: number,
    outbox = false,
    effects = false,
  ): { store: RedisStore; gatekeeper: Gatekeeper } => {
    const store = redisStore({
      url: REDIS_URL,
      prefix,
      outbox,
      effects,
      shards: partitions,
      sharding: kafkaPartitionSharding(partitions),
      claims: { owner: `member-${partitions}` },
    });
    const gatekeeper = createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0 });
    closing.push(gatekeeper);
    return { store, gatekeeper };
  };
  const claimAll = async (store: RedisStore, partitions: number) => {
    for (let p = 0; p < partitions; p += 1) await store.ownership?.claim(p);
  };
  const reshardTo = (partitions: number) =>
    runCli(['reshard', '--partitions', String(partitions), '--redis', REDIS_URL, '--redis-prefix', prefix]);
  const keys = Array.from({ length: 40 }, (_, i) => `order-${i}`);

  beforeEach(() => {
    admin = new Redis(REDIS_URL);
    prefix = uniquePrefix('reshard');
  });
  afterEach(async () => {
    for (const item of closing.splice(0)) await item.close().catch(() => undefined);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('moves every entity to its key’s partition under the new count, keeping state, history and the stalled index', async () => {
    const before = open(3);
    await claimAll(before.store, 3);
    for (const key of keys) {
      const o = sequenced('order', key);
      await before.gatekeeper.handle(o(1, 'order.placed', { total: 4 }));
      // seq 3 before seq 2: buffered, so the entity is in its shard's stalled index.
      await before.gatekeeper.handle(o(3, 'order.shipped', { carrier: 'DHL' }));
    }
    const inspected = await Promise.all(keys.map((key) => before.gatekeeper.inspect('order', key)));
    await before.gatekeeper.close();

    const refused = open(4);
    await expect(refused.store.ready()).rejects.toThrow(/gatekeeper reshard/);
    await refused.gatekeeper.close();

    const result = await reshardTo(4);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const moved = keys.filter((key) => partitionOfKey(key, 3) !== partitionOfKey(key, 4)).length;
    expect(result.stdout).toContain(
      `re-sharded 40 entities (${moved} moved) from 3 kafka-partitions shards to 4 kafka-partitions shards`,
    );

    const after = open(4);
    await claimAll(after.store, 4);
    for (const key of keys) {
      expect(await admin.exists(`{${prefix}:${partitionOfKey(key, 4)}}:e:u5:order${key}`), key).toBe(1);
    }
    expect(await Promise.all(keys.map((key) => after.gatekeeper.inspect('order', key)))).toEqual(inspected);
    expect((await after.store.stalled(Date.now() + 60_000, 100)).map((entry) => entry.key).sort()).toEqual(
      [...keys].sort(),
    );
    // And the entities carry on: seq 2 drains the buffered seq 3.
    const o = sequenced('order', keys[0] as string);
    const drained = await after.gatekeeper.handle(o(2, 'order.paid', { amount: 4 }));
    expect(drained.outcomes.map((outcome) => outcome.outcome)).toEqual(['applied', 'applied']);

    // The operator commands read the namespace with the layout it records.
    const inspect = await runCli([
      'inspect',
      'order',
      keys[1] as string,
      '--redis',
      REDIS_URL,
      '--redis-prefix',
      prefix,
    ]);
    expect(inspect.code).toBe(0);
    expect(inspect.stdout).toContain('placed');
  });

  it('refuses while outbox rows wait to be published, and moves nothing', async () => {
    const member = open(3, true);
    await claimAll(member.store, 3);
    await member.gatekeeper.handle(sequenced('order', 'o-1')(1, 'order.placed', { total: 4 }));
    const result = await reshardTo(4);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/cannot re-shard .* while rows wait to be published .*1 outbox/);
    expect(await admin.hget(`{${prefix}}:meta`, 'shards')).toBe('3');
  });

  it('refuses while effects wait to run, naming the shard and the way out, and moves nothing', async () => {
    // No transition handler runs here: the applied transition stays queued in its shard's effects stream.
    const member = open(3, false, true);
    await claimAll(member.store, 3);
    await member.gatekeeper.handle(sequenced('order', 'o-1')(1, 'order.placed', { total: 4 }));
    await member.gatekeeper.close();
    const shard = partitionOfKey('o-1', 3);
    const result = await reshardTo(4);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(
      `while effects wait to run (shard ${shard}: 1 queued, 0 failed, 0 entities holding effects)`,
    );
    expect(result.stderr).toContain('`gatekeeper effects list` is empty');
    expect(await admin.hget(`{${prefix}}:meta`, 'shards')).toBe('3');
    expect(await admin.exists(`{${prefix}:${shard}}:e:u5:ordero-1`)).toBe(1);
  });
});
