/**
 * Reads that span every shard: the outbox and dead-letter streams and the stalled and parked
 * indexes. Each shard is read in its own order (a shard holds whole entities, so per-entity order
 * is exact) and the shards are merged oldest first by stream id or score.
 */
import type { QueuedItem } from '../entity-store.ts';
import { CorruptEntityError, parse } from './codec.ts';
import type { RedisClient } from './scripts.ts';

type StreamEntry = [id: string, fields: string[]];

interface ShardStreamEntry {
  shard: number;
  id: string;
  ms: number;
  seq: number;
  value: string;
}

/** Reads up to `limit` entries from each shard's stream and keeps the oldest `limit` overall. */
export async function readStreams<TValue>(
  client: RedisClient,
  streamKeys: readonly string[],
  limit: number,
  what: string,
): Promise<QueuedItem<TValue>[]> {
  if (limit <= 0) return [];
  const perShard = await Promise.all(
    streamKeys.map((key) => client.xrange(key, '-', '+', 'COUNT', limit) as Promise<StreamEntry[]>),
  );
  const merged: ShardStreamEntry[] = [];
  perShard.forEach((entries, shard) => {
    for (const [id, fields] of entries) {
      const dash = id.indexOf('-');
      const value = fields[1];
      if (value === undefined)
        throw new CorruptEntityError(`${what} entry ${id} of shard ${shard} has no value`);
      merged.push({ shard, id, ms: Number(id.slice(0, dash)), seq: Number(id.slice(dash + 1)), value });
    }
  });
  merged.sort((a, b) => a.ms - b.ms || a.seq - b.seq || a.shard - b.shard);
  return merged.slice(0, limit).map((entry) => ({
    id: queuedItemId(entry.shard, entry.id),
    value: parse<TValue>(entry.value, `${what} entry ${entry.id}`),
  }));
}

/** Deletes acknowledged entries, grouped per shard (unknown or malformed ids are ignored). */
export async function ackStreams(
  client: RedisClient,
  streamKeys: readonly string[],
  ids: readonly string[],
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
      const calls: Promise<number>[] = [];
      for (let at = 0; at < streamIds.length; at += 1_000)
        calls.push(client.xdel(key, ...streamIds.slice(at, at + 1_000)));
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
