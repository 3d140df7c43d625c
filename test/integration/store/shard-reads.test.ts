import fc from 'fast-check';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queuedItemId, readStreams } from '../../../src/store/redis/shard-reads.ts';
import type { RedisClient } from '../../../src/store/redis/scripts.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

let redis: Redis;
const prefix = uniquePrefix('shard-reads');

beforeAll(() => {
  redis = new Redis(REDIS_URL);
});
afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

/** Writes entry i (1-based, id `i-0`) to the shard named for it; returns the stream keys. */
async function fill(name: string, shardOf: readonly number[], shards: number): Promise<string[]> {
  const keys = Array.from({ length: shards }, (_, shard) => `{${prefix}}:${name}:${shard}`);
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.del(key);
  shardOf.forEach((shard, index) =>
    pipeline.xadd(keys[shard] as string, `${index + 1}-0`, 'v', `${index + 1}`),
  );
  await pipeline.exec();
  return keys;
}

/** The client, counting the stream entries its XRANGE calls return. */
function counting(): { client: RedisClient; rowsRead: () => number } {
  let rows = 0;
  const client = {
    xrange: async (...args: Parameters<Redis['xrange']>) => {
      const entries = await redis.xrange(...args);
      rows += entries.length;
      return entries;
    },
  } as unknown as RedisClient;
  return { client, rowsRead: () => rows };
}

describe('reading the outbox and dead letters across shards', () => {
  it('returns exactly the oldest entries over all shards, oldest first, whatever their spread', async () => {
    let round = 0;
    await fc.assert(
      fc.asyncProperty(
        fc
          .integer({ min: 1, max: 5 })
          .chain((shards) =>
            fc.tuple(
              fc.constant(shards),
              fc.array(fc.integer({ min: 0, max: shards - 1 }), { maxLength: 60 }),
              fc.integer({ min: 1, max: 70 }),
            ),
          ),
        async ([shards, shardOf, limit]) => {
          const keys = await fill(`p${(round += 1)}`, shardOf, shards);
          const read = await readStreams<number>(redis, keys, limit, 'outbox');
          const expected = shardOf
            .map((shard, index) => ({ id: queuedItemId(shard, `${index + 1}-0`), value: index + 1 }))
            .slice(0, limit);
          expect(read).toEqual(expected);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads about twice the limit, not the limit from every shard, when the backlog is spread evenly', async () => {
    const shards = 16;
    const keys = await fill(
      'even',
      Array.from({ length: 3_200 }, (_, i) => i % shards),
      shards,
    );
    const { client, rowsRead } = counting();
    const read = await readStreams<number>(client, keys, 500, 'outbox');
    expect(read.map((item) => item.value)).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    expect(rowsRead()).toBeLessThanOrEqual(2 * 500 + shards);
  });

  it('reads further into one shard while it holds the oldest entries', async () => {
    // The first 300 entries all sit in shard 2; the rest are spread.
    const shardOf = [
      ...Array.from({ length: 300 }, () => 2),
      ...Array.from({ length: 300 }, (_, i) => i % 8),
    ];
    const keys = await fill('skewed', shardOf, 8);
    const read = await readStreams<number>(redis, keys, 250, 'outbox');
    expect(read.map((item) => item.value)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
  });
});
