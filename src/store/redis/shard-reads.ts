/**
 * Reads that span every shard: the outbox and dead-letter streams and the stalled and parked
 * indexes. Each shard is read in its own order (a shard holds whole entities, so per-entity order
 * is exact) and the shards are merged oldest first by stream id or score.
 */
import type { QueuedItem } from '../entity-store.ts';
import { CorruptEntityError, parse } from './codec.ts';
import type { RedisClient } from './scripts.ts';

interface ShardStreamEntry {
  shard: number;
  id: string;
  ms: number;
  seq: number;
  value: string;
}

/**
 * The oldest `limit` entries over every shard's stream, oldest first. Each shard is read in pages
 * from where its last page ended, a share of `limit` at first, and again only while a shard may
 * still hold entries older than the oldest-`limit` cut of what was read: with a backlog spread over
 * the shards this reads about twice `limit` in all, where reading `limit` from every shard read
 * `shards` times it (80,000 rows for a relay round of 5,000 on 16 shards).
 */
export async function readStreams<TValue>(
  client: RedisClient,
  streamKeys: readonly string[],
  limit: number,
  what: string,
): Promise<QueuedItem<TValue>[]> {
  if (limit <= 0) return [];
  const read = streamKeys.map(() => [] as ShardStreamEntry[]);
  const exhausted = streamKeys.map(() => false);
  const pageSize = streamKeys.map(() => Math.min(limit, Math.ceil((2 * limit) / streamKeys.length)));
  let toRead = streamKeys.map((_, shard) => shard);
  for (;;) {
    const replies = await Promise.all(
      toRead.map((shard) => {
        const last = read[shard]?.at(-1);
        // The id right after the last one read (works on Redis before 6.2, which lacks `(id`).
        const from = last === undefined ? '-' : `${last.ms}-${last.seq + 1}`;
        return client.xrange(streamKeys[shard] as string, from, '+', 'COUNT', pageSize[shard] as number);
      }),
    );
    replies.forEach((entries, index) => {
      const shard = toRead[index] as number;
      const into = read[shard] as ShardStreamEntry[];
      for (const [id, fields] of entries) into.push(toEntry(shard, id, fields, what));
      if (entries.length < (pageSize[shard] as number)) exhausted[shard] = true;
      // Never more than `limit` from one shard: that many already settle its share of any cut.
      pageSize[shard] = Math.min((pageSize[shard] as number) * 2, limit - into.length);
      if (pageSize[shard] === 0) exhausted[shard] = true;
    });
    const merged = read.flat().sort(olderFirst);
    const cut = merged.length >= limit ? merged[limit - 1] : undefined;
    // A shard whose last read entry is older than the cut may hide older entries than the cut's.
    toRead = streamKeys
      .map((_, shard) => shard)
      .filter((shard) => {
        if (exhausted[shard]) return false;
        const last = read[shard]?.at(-1);
        return cut === undefined || (last !== undefined && olderFirst(last, cut) < 0);
      });
    if (toRead.length === 0) {
      return merged.slice(0, limit).map((entry) => ({
        id: queuedItemId(entry.shard, entry.id),
        value: parse<TValue>(entry.value, `${what} entry ${entry.id}`),
      }));
    }
  }
}

function toEntry(shard: number, id: string, fields: string[], what: string): ShardStreamEntry {
  const dash = id.indexOf('-');
  const value = fields[1];
  if (value === undefined) throw new CorruptEntityError(`${what} entry ${id} of shard ${shard} has no value`);
  return { shard, id, ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)), value };
}

function olderFirst(a: ShardStreamEntry, b: ShardStreamEntry): number {
  return a.ms - b.ms || a.seq - b.seq || a.shard - b.shard;
}

/** Deletes acknowledged entries, grouped per shard (unknown or malformed ids are ignored). */
export async function ackStreams(
  client: RedisClient,
  streamKeys: readonly string[],
  ids: readonly string[],
  /** Removes up to 1,000 entries of one shard's stream (default XDEL). */
  remove: (key: string, shard: number, streamIds: string[]) => Promise<unknown> = (key, _shard, streamIds) =>
    client.xdel(key, ...streamIds),
): Promise<void> {
  const byShard = new Map<number, string[]>();
  for (const id of ids) {
    const parsed = parseQueuedItemId(id);
    if (!parsed || parsed.shard >= streamKeys.length) continue;
    const list = byShard.get(parsed.shard) ?? [];
    list.push(parsed.streamId);
    byShard.set(parsed.shard, list);
  }
  await Promise.all(
    [...byShard].flatMap(([shard, streamIds]) => {
      const key = streamKeys[shard] as string;
      const calls: Promise<unknown>[] = [];
      for (let at = 0; at < streamIds.length; at += 1_000)
        calls.push(remove(key, shard, streamIds.slice(at, at + 1_000)));
      return calls;
    }),
  );
}

/** `<shard>/<stream id>`: what QueuedItem.id looks like for this store. */
export function queuedItemId(shard: number, streamId: string): string {
  return `${shard}/${streamId}`;
}

function parseQueuedItemId(id: string): { shard: number; streamId: string } | undefined {
  const match = /^(\d+)\/(\d+-\d+)$/.exec(id);
  if (!match) return undefined;
  return { shard: Number(match[1]), streamId: match[2] as string };
}

/** Members and scores of sorted-set indexes, merged lowest score first. */
export async function readIndexes(
  client: RedisClient,
  indexKeys: readonly string[],
  maxScore: number | undefined,
  limit: number,
): Promise<{ member: string; score: number }[]> {
  if (limit <= 0) return [];
  const replies = await Promise.all(
    indexKeys.map((key) =>
      maxScore === undefined
        ? client.zrange(key, 0, limit - 1, 'WITHSCORES')
        : client.zrangebyscore(key, '-inf', `(${maxScore}`, 'WITHSCORES', 'LIMIT', 0, limit),
    ),
  );
  const merged: { member: string; score: number }[] = [];
  for (const reply of replies) {
    for (let i = 0; i + 1 < reply.length; i += 2)
      merged.push({ member: reply[i] as string, score: Number(reply[i + 1]) });
  }
  merged.sort((a, b) => a.score - b.score);
  return merged.slice(0, limit);
}
