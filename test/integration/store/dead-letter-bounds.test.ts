/**
 * The stores' dead-letter bounds (entries and bytes) on the memory store and a real Redis: while a
 * relay publishes them (outbox) no unpublished letter is ever dropped — the store refuses the
 * decision instead, writing nothing of it; with nobody reading them the oldest go; letters that
 * name no entity spread over the Redis shards.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import type { DeadLetter } from '../../../src/core/outcome.ts';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { DeadLettersFullError } from '../../../src/store/dead-letters-full-error.ts';
import type { EntityStore } from '../../../src/store/entity-store.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

interface Bounds {
  outbox: boolean;
  deadLetterLimit?: number;
  deadLetterByteLimit?: number;
}

const admin = new Redis(REDIS_URL);
let prefixes: string[] = [];
let opened: EntityStore[] = [];

const kinds: { name: string; open(bounds: Bounds): EntityStore }[] = [
  { name: 'memory', open: (bounds) => memoryStore(bounds) },
  {
    name: 'redis',
    open: (bounds) => {
      const prefix = uniquePrefix('dl-bounds');
      prefixes.push(prefix);
      // One shard: the bound per shard is the whole bound, so the counts below are exact.
      return redisStore({ url: REDIS_URL, prefix, shards: 1, ...bounds });
    },
  },
];

function letter(n: number, key: string | null = null, size = 10): DeadLetter {
  return {
    reason: 'invalid-envelope',
    detail: `garbage ${n}`,
    at: n,
    event: undefined,
    raw: 'x'.repeat(size),
    aggregate: null,
    key,
    source: { topic: 'in', partition: 0, offset: String(n) },
  };
}

async function readAll(store: EntityStore): Promise<DeadLetter[]> {
  return (await store.readDeadLetters(100_000)).map((item) => item.value);
}

beforeEach(() => {
  prefixes = [];
  opened = [];
});
afterEach(async () => {
  await Promise.all(opened.map((store) => store.close()));
  for (const prefix of prefixes) await deletePrefix(admin, prefix);
});
afterAll(async () => {
  await admin.quit();
});

describe.each(kinds)('dead-letter bounds on the $name store', (kind) => {
  const open = (bounds: Bounds) => {
    const store = kind.open(bounds);
    opened.push(store);
    return store;
  };

  it('refuses a dead letter past the entry bound while they are relayed, drops none, and takes them again once published', async () => {
    const store = open({ outbox: true, deadLetterLimit: 5 });
    for (let n = 1; n <= 5; n += 1) await store.recordDeadLetter(letter(n));
    await expect(store.recordDeadLetter(letter(6))).rejects.toBeInstanceOf(DeadLettersFullError);
    const held = await store.readDeadLetters(100);
    expect(held.map((item) => item.value.detail)).toEqual([1, 2, 3, 4, 5].map((n) => `garbage ${n}`));
    await store.ackDeadLetters(held.slice(0, 2).map((item) => item.id));
    await store.recordDeadLetter(letter(6));
    expect((await readAll(store)).map((item) => item.at)).toEqual([3, 4, 5, 6]);
  });

  it('counts bytes too: refuses once the unpublished letters hold the byte bound, and the ack gives the bytes back', async () => {
    const store = open({ outbox: true, deadLetterLimit: 1_000, deadLetterByteLimit: 2_000 });
    await store.recordDeadLetter(letter(1, null, 1_500));
    await store.recordDeadLetter(letter(2, null, 1_500)); // under the bound when it arrived
    await expect(store.recordDeadLetter(letter(3, null, 10))).rejects.toBeInstanceOf(DeadLettersFullError);
    const held = await store.readDeadLetters(100);
    expect(held).toHaveLength(2);
    await store.ackDeadLetters(held.map((item) => item.id));
    await store.recordDeadLetter(letter(3, null, 10));
    expect((await readAll(store)).map((item) => item.at)).toEqual([3]);
  });

  it('refuses a whole decision whose dead letter does not fit, writing nothing of it, and decides it again later', async () => {
    const store = open({ outbox: true, deadLetterLimit: 1 });
    const gatekeeper = createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0 });
    const placed = {
      id: 'p',
      aggregate: 'order',
      key: 'o-1',
      seq: 1,
      type: 'order.placed',
      payload: { total: 10 },
    };
    const illegal = { id: 'x', aggregate: 'order', key: 'o-1', seq: 2, type: 'order.delivered' };
    await gatekeeper.handle(placed);
    await store.recordDeadLetter(letter(1));
    await expect(gatekeeper.handle(illegal)).rejects.toBeInstanceOf(DeadLettersFullError);
    expect((await store.load({ aggregate: 'order', key: 'o-1' }))?.lastSeq).toBe(1);
    await store.ackDeadLetters((await store.readDeadLetters(10)).map((item) => item.id));
    const again = await gatekeeper.handle(illegal);
    expect(again.outcome.outcome).toBe('rejected');
    expect((await readAll(store)).map((item) => item.event?.id)).toEqual(['x']);
    await gatekeeper.close();
  });

  it('without a relay keeps only the newest letters within the entry and byte bounds', async () => {
    const store = open({ outbox: false, deadLetterLimit: 3, deadLetterByteLimit: 1_000_000 });
    for (let n = 1; n <= 6; n += 1) await store.recordDeadLetter(letter(n));
    expect((await readAll(store)).map((item) => item.at)).toEqual([4, 5, 6]);
    const bytes = open({ outbox: false, deadLetterLimit: 100, deadLetterByteLimit: 3_000 });
    for (let n = 1; n <= 4; n += 1) await bytes.recordDeadLetter(letter(n, null, 1_000));
    expect((await readAll(bytes)).map((item) => item.at)).toEqual([3, 4]);
  });
});

describe('dead letters on the redis store', () => {
  it('spread letters that name no entity over the shards instead of filling one', async () => {
    const prefix = uniquePrefix('dl-spread');
    prefixes.push(prefix);
    const store = redisStore({ url: REDIS_URL, prefix, shards: 8, outbox: true });
    opened.push(store);
    for (let n = 1; n <= 200; n += 1) await store.recordDeadLetter(letter(n));
    const lengths = await Promise.all(
      Array.from({ length: 8 }, (_, shard) => admin.xlen(store.keys.shard(shard).dead)),
    );
    expect(lengths.reduce((sum, length) => sum + length, 0)).toBe(200);
    expect(Math.max(...lengths)).toBeLessThan(60);
    expect(Math.min(...lengths)).toBeGreaterThan(5);
  });
});
