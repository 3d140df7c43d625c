/**
 * The namespace's safety checks, run once per store before its first operation:
 * - the shard count, layout and sharding recorded in `{P}:meta` must match this process's;
 * - a writing store refuses a Redis that may evict keys (any `maxmemory-policy` but `noeviction`):
 *   an evicted entity would silently start over, applying its events again;
 * - every shard has a marker key, written when the namespace is first claimed and never deleted,
 *   so a namespace whose markers are gone (evicted, flushed, a restart without persistence) is
 *   reported as lost data instead of being taken for a fresh one.
 * A read-only store (inspect, history, stalled, the web view) only reads here: it works on a full
 * Redis, on a replica and for a read-only ACL user.
 */
import { randomUUID } from 'node:crypto';
import { Cluster } from 'ioredis';
import { GatekeeperError, InvalidConfigError, messageOf } from '../../core/errors.ts';
import type { KeySpace } from './keys.ts';
import { runScript, type RedisClient } from './scripts.ts';

/** The Redis may evict keys (its maxmemory-policy is not `noeviction`) and the store may not run on it. */
export class EvictingRedisError extends GatekeeperError {
  constructor(message: string) {
    super(message, { code: 'REDIS_EVICTION_POLICY' });
    this.name = 'EvictingRedisError';
  }
}

/** Redis lost data the store had written (a shard's marker or an entity is gone). Not retriable. */
export class StoreResetError extends GatekeeperError {
  constructor(message: string) {
    super(message, { code: 'STORE_RESET' });
    this.name = 'StoreResetError';
  }
}

export interface NamespaceCheck {
  client: RedisClient;
  keys: KeySpace;
  layout: string;
  where: string;
  readOnly: boolean;
  allowEviction: boolean;
  warn: (message: string) => void;
  /** A configuration error the connection revealed (db index out of range). */
  configError: () => GatekeeperError | undefined;
}

/** What the check learnt: whether the shards' markers exist and so must keep existing. */
export interface NamespaceState {
  marked: boolean;
}

/** Checks (and, for a writing store, claims) the namespace; see the file comment. */
export async function checkNamespace(check: NamespaceCheck): Promise<NamespaceState> {
  const { client, keys } = check;
  // A plain read first: it waits for the connection, whose SELECT may have failed.
  const [shards = null, layout = null, id = null, sharding = null] = await client.hmget(
    keys.meta,
    'shards',
    'layout',
    'id',
    'sharding',
  );
  const failed = check.configError();
  if (failed) throw failed;
  // A namespace recorded before sharding was recorded used the hash sharding.
  if (shards !== null) requireSameLayout(check, shards, layout, sharding ?? 'hash');
  if (check.readOnly) return { marked: id !== null };

  await refuseReplica(check);
  await refuseEviction(check);
  const markerKeys = Array.from({ length: keys.shards }, (_, shard) => keys.shard(shard).marker);
  if (id !== null) {
    const values = await Promise.all(markerKeys.map((key) => client.get(key)));
    const missing = values.flatMap((value, shard) => (value === null ? [shard] : []));
    if (missing.length > 0) throw lostShards(check, missing, values.length);
    return { marked: true };
  }
  // Markers first, then the claim: a process that sees the id can rely on every marker existing.
  const candidate = randomUUID();
  await Promise.all(markerKeys.map((key) => client.set(key, candidate, 'NX')));
  const reply = (await runScript(
    client,
    'claimNamespace',
    [keys.meta],
    [keys.shards, check.layout, candidate, keys.sharding.kind],
  )) as [string | null, string | null, string | null];
  requireSameLayout(check, reply[0], reply[1], reply[2]);
  return { marked: true };
}

function requireSameLayout(
  check: NamespaceCheck,
  shards: string | null,
  layout: string | null,
  sharding: string | null,
): void {
  const { keys } = check;
  const kind = keys.sharding.kind;
  if (Number(shards) === keys.shards && layout === check.layout && sharding === kind) return;
  throw new InvalidConfigError(
    `redis store: prefix "${keys.prefix}" was created with ${shards} ${sharding} shards (layout ${layout}); ` +
      `this process is configured for ${keys.shards} ${kind} shards (layout ${check.layout}). ` +
      (sharding === 'kafka-partitions' || kind === 'kafka-partitions'
        ? 'With Kafka there is one shard per input partition: after changing the partition count (or moving from the hash sharding), ' +
          'stop every member and run `gatekeeper reshard` (see docs/kafka.md), or use another prefix.'
        : 'Use the same shards option or another prefix.'),
  );
}

function lostShards(check: NamespaceCheck, missing: number[], total: number): StoreResetError {
  const list = missing.length > 10 ? `${missing.slice(0, 10).join(', ')} …` : missing.join(', ');
  return new StoreResetError(
    `redis store: Redis on ${check.where} lost data of prefix "${check.keys.prefix}": the markers of ` +
      `${missing.length} of ${total} shards (${list}) are gone, so their entities would silently start over. ` +
      'Redis was flushed, evicted keys (maxmemory-policy) or restarted without persistence. ' +
      'Restore it from a backup, or use a new --redis-prefix to start from nothing knowingly.',
  );
}

/** The entity was committed before and is gone (with its shard's marker, or alone). */
export function lostEntity(
  check: Pick<NamespaceCheck, 'where' | 'keys'>,
  what: string,
  gone: string,
): StoreResetError {
  return new StoreResetError(
    `redis store: Redis on ${check.where} lost data of prefix "${check.keys.prefix}": the ${gone} of ${what} ` +
      'is gone, so the entity cannot be told from a new one. Redis was flushed, evicted keys (maxmemory-policy) ' +
      'or restarted without persistence. Restore it from a backup, or use a new --redis-prefix to start from nothing knowingly.',
  );
}

/** A writing store pointed at a replica would fail every commit with READONLY: said at start instead. */
async function refuseReplica(check: NamespaceCheck): Promise<void> {
  if (check.client instanceof Cluster) return; // only masters are written to
  let role: unknown;
  try {
    role = await check.client.call('ROLE');
  } catch {
    return; // ROLE not allowed: the first write will say READONLY if it is one
  }
  if (!Array.isArray(role) || (role[0] !== 'slave' && role[0] !== 'replica')) return;
  throw new InvalidConfigError(
    `redis store: Redis on ${check.where} is a read-only replica (of ${String(role[1])}:${String(role[2])}); ` +
      'a command that writes needs the primary (reading commands work on a replica)',
  );
}

async function refuseEviction(check: NamespaceCheck): Promise<void> {
  const nodes = check.client instanceof Cluster ? check.client.nodes('master') : [check.client];
  const found = await Promise.all(nodes.map((node) => evictionPolicy(node)));
  const bad = found.filter((policy) => policy.value !== 'noeviction');
  if (bad.length === 0) return;
  const what = bad
    .map((policy) => policy.value ?? policy.why)
    .filter((text, index, all) => all.indexOf(text) === index)
    .join(', ');
  const known = bad.every((policy) => policy.value !== undefined);
  const message =
    (known
      ? `redis store: Redis on ${check.where} has maxmemory-policy ${what}: when it is full it may evict keys, `
      : `redis store: the maxmemory-policy of Redis on ${check.where} cannot be read (${what}), so it may evict keys, `) +
    'and an evicted entity silently starts over (its events applied again, its buffer lost).';
  if (check.allowEviction) {
    check.warn(
      `WARNING: ${message} Running anyway because eviction was allowed explicitly; a lost shard is still detected.`,
    );
    return;
  }
  throw new EvictingRedisError(
    `${message} Set \`maxmemory-policy noeviction\` (redis-cli CONFIG SET maxmemory-policy noeviction, and in redis.conf), ` +
      'or, on a managed service that hides the setting and is known not to evict, pass allowEvictingRedis (--redis-allow-eviction).',
  );
}

/** The node's maxmemory-policy: CONFIG GET, or INFO memory where CONFIG is disabled (managed services). */
async function evictionPolicy(node: RedisClient): Promise<{ value: string | undefined; why: string }> {
  let why = '';
  try {
    const reply = await node.call('CONFIG', 'GET', 'maxmemory-policy');
    if (Array.isArray(reply) && typeof reply[1] === 'string') return { value: reply[1], why };
  } catch (error) {
    why = `CONFIG GET refused: ${messageOf(error)}`;
  }
  try {
    const info = await node.call('INFO', 'memory');
    const match = typeof info === 'string' ? /^maxmemory_policy:(\S+)/m.exec(info) : null;
    if (match) return { value: match[1], why };
    why = `${why}; INFO memory names no maxmemory_policy`;
  } catch (error) {
    why = `${why}; INFO refused: ${messageOf(error)}`;
  }
  return { value: undefined, why: why.replace(/^; /, '') };
}
