/**
 * The effects scripts are fenced by the shard's claim: once another member claimed the shard, a
 * member holding the older epoch can neither acknowledge, hold, fail, release nor count attempts
 * of its effects — Redis is left exactly as it was — while the new owner can.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { ShardFencedError } from '../../../src/core/errors.ts';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { kafkaPartitionSharding } from '../../../src/store/redis/partition-sharding.ts';
import { redisStore, ShardClaims, type RedisStore } from '../../../src/store/redis/index.ts';
import { orderHistory } from '../../support/events.ts';
import { countPrefixKeys, deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

describe('fencing of the effects scripts', () => {
  let prefix = '';
  const closing: RedisStore[] = [];
  afterEach(async () => {
    await Promise.all(closing.splice(0).map((store) => store.close()));
    const admin = new Redis(REDIS_URL);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  const member = (owner: string | ShardClaims): RedisStore => {
    const store = redisStore({
      url: REDIS_URL,
      prefix,
      shards: 1,
      sharding: kafkaPartitionSharding(1),
      effects: true,
      claims: typeof owner === 'string' ? { owner } : owner,
    });
    closing.push(store);
    return store;
  };

  /** Everything the shard's effects keys hold, to compare before and after a refused write. */
  async function snapshot(admin: Redis): Promise<string> {
    const keys = (await admin.keys(`{${prefix}:0}:effects*`)).sort();
    const parts: string[] = [];
    for (const key of keys) {
      const type = await admin.type(key);
      const value =
        type === 'stream'
          ? await admin.xrange(key, '-', '+')
          : type === 'hash'
            ? await admin.hgetall(key)
            : type === 'list'
              ? await admin.lrange(key, 0, -1)
              : await admin.smembers(key);
      parts.push(`${key}=${JSON.stringify(value)}`);
    }
    return parts.join('\n');
  }

  it('a member whose claim was superseded writes nothing; the new owner can', async () => {
    prefix = uniquePrefix('effects-fence');
    const oldClaims = new ShardClaims('old');
    const old = member(oldClaims);
    await old.ownership?.claim(0);
    const gatekeeper = createGatekeeperWithStore({ machines, store: old });
    await gatekeeper.handleBatch(orderHistory('a'));
    await gatekeeper.idle();
    const queue = old.effects.shardQueue(0);
    const rows = await queue.read(undefined, 10);
    expect(rows.map((row) => row.identity)).toEqual(['order/a/1', 'order/a/2', 'order/a/3', 'order/a/4']);
    const [first, second, third] = rows as [(typeof rows)[0], (typeof rows)[0], (typeof rows)[0]];
    const ref = { aggregate: 'order', key: 'a' };
    // The old owner already held one effect and counted a failure before it lost the shard.
    await queue.hold(ref, [third]);
    await queue.countFailure(first);

    const fresh = member('new');
    await fresh.ownership?.claim(0);
    const admin = new Redis(REDIS_URL);
    const before = await snapshot(admin);
    const held = await queue.firstHeld(ref);
    expect(held?.identity).toBe('order/a/3');
    const refused = [
      () => queue.ack([first]),
      () => queue.hold(ref, [second]),
      () => queue.countFailure(first),
      () => queue.fail(ref, first, 'queue', { error: 'x', attempts: 1, failedAt: 1 }),
      () => queue.releaseFirst(ref, held!),
    ];
    for (const write of refused) {
      // Each refusal also drops the local claim: claim again with the old epoch to try the next.
      await expect(write()).rejects.toBeInstanceOf(ShardFencedError);
      oldClaims.hold(0, 1);
    }
    expect(await queue.stillOwned?.()).toBe(false);
    expect(await snapshot(admin)).toBe(before);

    const owned = fresh.effects.shardQueue(0);
    expect(await owned.stillOwned?.()).toBe(true);
    await owned.fail(ref, first, 'queue', { error: 'down', attempts: 1, failedAt: 5 });
    expect((await fresh.effects.failure(ref))?.idempotencyKey).toBe('order/a/1');
    expect(await snapshot(admin)).not.toBe(before);
    expect(await countPrefixKeys(admin, prefix)).toBeGreaterThan(0);
    await admin.quit();
  });
});
