/**
 * A dead letter that names no entity (garbage, an unknown aggregate) is kept once per input
 * record on Redis: after a crash Kafka delivers the uncommitted records again, and without an
 * entity's seen ids nothing else could tell the second delivery from the first.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../src/core/outcome.ts';
import { redisStore, type RedisStore } from '../../../src/store/redis/index.ts';
import { DEAD_SOURCE_WINDOW } from '../../../src/store/redis/dead-sources.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

const garbage = (offset: number, topic = 'input'): DeadLetter => ({
  reason: 'invalid-envelope',
  detail: 'not JSON',
  at: 1,
  event: undefined,
  raw: `garbage at ${offset}`,
  aggregate: null,
  key: null,
  source: { topic, partition: 0, offset: String(offset) },
});

describe('entity-less dead letters on Redis', () => {
  const admin = new Redis(REDIS_URL);
  let prefix = '';
  let store: RedisStore | undefined;
  const open = () => {
    prefix = uniquePrefix('dl-once');
    store = redisStore({ url: REDIS_URL, prefix, shards: 1, outbox: true });
    return store;
  };
  afterEach(async () => {
    await store?.close();
    await deletePrefix(admin, prefix);
  });

  it('records the same input record once, however often it is delivered, and other records and topics each once', async () => {
    const s = open();
    for (let delivery = 0; delivery < 3; delivery += 1) {
      await s.recordDeadLetter(garbage(10));
      await s.recordDeadLetter(garbage(11));
      await s.recordDeadLetter(garbage(10, 'other-input'));
    }
    const letters = await s.readDeadLetters(100);
    expect(letters.map((row) => [row.value.source?.topic, row.value.source?.offset])).toEqual([
      ['input', '10'],
      ['input', '11'],
      ['other-input', '10'],
    ]);
  });

  it('still records it once after the first letter was published and deleted', async () => {
    const s = open();
    await s.recordDeadLetter(garbage(7));
    await s.ackDeadLetters((await s.readDeadLetters(10)).map((row) => row.id));
    await s.recordDeadLetter(garbage(7));
    expect(await s.readDeadLetters(10)).toEqual([]);
  });

  it('forgets records more than the window behind the newest one (committed long ago, never delivered again)', async () => {
    const s = open();
    await s.recordDeadLetter(garbage(5));
    await s.recordDeadLetter(garbage(5 + DEAD_SOURCE_WINDOW + 1));
    const remembered = await admin.zrange(s.keys.deadSources(0, 'input'), 0, -1);
    expect(remembered).toEqual([`0/${5 + DEAD_SOURCE_WINDOW + 1}`]);
  });

  it('letters without an input record (the library without Kafka) are all kept', async () => {
    const s = open();
    const { source: _source, ...letter } = garbage(1);
    await s.recordDeadLetter(letter);
    await s.recordDeadLetter(letter);
    expect(await s.readDeadLetters(10)).toHaveLength(2);
  });
});
