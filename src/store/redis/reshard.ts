/**
 * Re-sharding a namespace offline: every entity (state hash, history list, stalled and parked
 * index entries) moves to the shard the new layout gives it, then the namespace's recorded shard
 * count and sharding change. Needed when the input topics' partition count changes (with Kafka one
 * shard is one input partition) or when a namespace made by the library's hash sharding is taken
 * over by `gatekeeper run` on Kafka. Every gatekeeper process on the prefix must be stopped first,
 * and the outbox and dead-letter streams must be empty (published): their rows are in order per
 * shard and cannot be split without losing that order, so a non-empty stream refuses the move.
 */
import { Cluster, type Redis } from 'ioredis';
import { InvalidConfigError } from '../../core/errors.ts';
import { decodeEntityId, KeySpace } from './keys.ts';
import { KAFKA_SHARDING, kafkaPartitionSharding } from './partition-sharding.ts';
import type { RedisClient } from './scripts.ts';

export interface ReshardTarget {
  shards: number;
  /** `kafka-partitions` (one shard per input partition) or `hash`. */
  sharding: 'kafka-partitions' | 'hash';
}

export interface ReshardReport {
  from: { shards: number; sharding: string };
  to: ReshardTarget;
  entities: number;
  moved: number;
}

export function keySpaceFor(prefix: string, shards: number, sharding: string): KeySpace {
  if (sharding === 'hash') return new KeySpace(prefix, shards);
  if (sharding === KAFKA_SHARDING) return new KeySpace(prefix, shards, kafkaPartitionSharding(shards));
  throw new InvalidConfigError(
    `redis store: prefix "${prefix}" uses the sharding "${sharding}", which this version does not know`,
  );
}

/** Moves every entity of `prefix` to the layout `target`; refuses while any outbox or dead-letter row or effect waits. */
export async function reshard(
  client: RedisClient,
  prefix: string,
  target: ReshardTarget,
): Promise<ReshardReport> {
  const from = new KeySpace(prefix, 1);
  const [recordedShards, recordedSharding, layout] = await client.hmget(
    from.meta,
    'shards',
    'sharding',
    'layout',
  );
  if (recordedShards === null)
    throw new InvalidConfigError(
      `redis store: prefix "${prefix}" holds no gatekeeper namespace (no ${from.meta})`,
    );
  const old = keySpaceFor(prefix, Number(recordedShards), recordedSharding ?? 'hash');
  const next = keySpaceFor(prefix, target.shards, target.sharding);
  const waiting: string[] = [];
  const effectsWaiting: string[] = [];
  for (let shard = 0; shard < old.shards; shard += 1) {
    const keys = old.shard(shard);
    const [outbox, dead, queued, failed, holding] = await Promise.all([
      client.xlen(keys.outbox),
      client.xlen(keys.dead),
      client.xlen(keys.effects),
      client.hlen(keys.effectsFailed),
      client.scard(keys.effectsHolding),
    ]);
    if (outbox + dead > 0) waiting.push(`shard ${shard}: ${outbox} outbox, ${dead} dead-letter rows`);
    if (queued + failed + holding > 0)
      effectsWaiting.push(
        `shard ${shard}: ${queued} queued, ${failed} failed, ${holding} entities holding effects`,
      );
  }
  if (waiting.length > 0)
    throw new InvalidConfigError(
      `redis store: cannot re-shard prefix "${prefix}" while rows wait to be published (${waiting.slice(0, 5).join('; ')}). ` +
        'Run the gatekeeper with the old partition count until its backlog is 0, stop every member, then re-shard.',
    );
  // Effects are in order per shard as the outbox is, and a failed one holds its entity's later
  // effects: moving them could run an entity's effects out of order or lose its failure log.
  if (effectsWaiting.length > 0)
    throw new InvalidConfigError(
      `redis store: cannot re-shard prefix "${prefix}" while effects wait to run (${effectsWaiting.slice(0, 5).join('; ')}). ` +
        'Run the gatekeeper with its transition handler and the old partition count until `gatekeeper effects list` is empty ' +
        'and gatekeeper_effects_pending is 0 (retry or skip failed effects), stop every member, then re-shard.',
    );

  let entities = 0;
  let moved = 0;
  // Every shard's entities are listed before any moves, so a moved entity is never met twice
  // (SCAN may also answer a key twice: the Set keeps one).
  const byShard: Set<string>[] = [];
  for (let shard = 0; shard < old.shards; shard += 1)
    byShard.push(new Set(await scanAll(client, `${globEscape(`{${prefix}:${shard}}:e:`)}*`)));
  for (let shard = 0; shard < old.shards; shard += 1) {
    const oldShard = old.shard(shard);
    for (const stateKey of byShard[shard] as Set<string>) {
      const member = stateKey.slice(stateKey.indexOf(':e:') + 3);
      const ref = decodeEntityId(member);
      if (ref === undefined) continue;
      entities += 1;
      const to = next.entity(ref);
      if (to.shard === shard && next.shards === old.shards) continue;
      const fromKeys = old.entity(ref);
      if (to.state === fromKeys.state) continue;
      await moveKey(client, fromKeys.state, to.state);
      await moveKey(client, fromKeys.history, to.history);
      const toShard = next.shard(to.shard);
      for (const [index, target] of [
        [oldShard.stalled, toShard.stalled],
        [oldShard.parked, toShard.parked],
      ] as const) {
        const score = await client.zscore(index, member);
        if (score === null) continue;
        await client.zadd(target, score, member);
        await client.zrem(index, member);
      }
      moved += 1;
    }
  }
  await moveVersionCounts(client, old, next);
  // Every shard of the new layout needs its marker (namespace.ts): a shard without one is taken
  // for lost data. A namespace made before markers existed has no id and no markers to keep.
  const id = (await client.hmget(from.meta, 'id'))[0] ?? null;
  if (id !== null)
    for (let shard = 0; shard < next.shards; shard += 1) await client.set(next.shard(shard).marker, id, 'NX');
  await client.hset(
    from.meta,
    'shards',
    String(target.shards),
    'sharding',
    target.sharding,
    'layout',
    layout ?? '1',
  );
  return {
    from: { shards: old.shards, sharding: old.sharding.kind },
    to: target,
    entities,
    moved,
  };
}

/**
 * The per-shard counts of entities per aggregate and machine version (version-reads.ts sums them
 * over the shards) move with the entities: summed (first-seen times: the earliest) into the new
 * layout's first shard, the old shards' hashes removed.
 */
async function moveVersionCounts(client: RedisClient, old: KeySpace, next: KeySpace): Promise<void> {
  const merged = new Map<string, number>();
  for (let shard = 0; shard < old.shards; shard += 1) {
    const key = old.shard(shard).versions;
    for (const [field, value] of Object.entries(await client.hgetall(key))) {
      const number = Number(value) || 0;
      const before = merged.get(field);
      if (before === undefined) merged.set(field, number);
      else merged.set(field, field.startsWith('f:') ? Math.min(before, number) : before + number);
    }
    await client.del(key);
  }
  if (merged.size === 0) return;
  const fields: string[] = [];
  for (const [field, value] of merged) fields.push(field, String(value));
  await client.hset(next.shard(0).versions, ...fields);
}

/** DUMP + RESTORE (keys of two shards may live on two cluster nodes), keeping the TTL. */
async function moveKey(client: RedisClient, from: string, to: string): Promise<void> {
  const dumped = await client.dumpBuffer(from);
  if (dumped === null) return;
  const ttl = await client.pttl(from);
  await client.restore(to, ttl > 0 ? ttl : 0, dumped, 'REPLACE');
  await client.del(from);
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, (char) => `\\${char}`);
}

async function scanAll(client: RedisClient, pattern: string): Promise<string[]> {
  const nodes: Redis[] = client instanceof Cluster ? client.nodes('master') : [client];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== '0');
  }
  return found;
}
