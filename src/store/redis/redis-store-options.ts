/**
 * The options of `redisStore`, and the settings the store keeps of them: defaults applied and
 * numbers checked once, when the store is created.
 */
import { DEFAULT_HISTORY_LIMIT } from '../../core/history.ts';
import { InvalidConfigError } from '../../core/errors.ts';
import type { CommitArgsSettings } from './commit-args.ts';
import type { RedisConnectionOptions } from './connection.ts';
import type { Sharding } from './keys.ts';
import type { ShardClaims } from './shard-claims.ts';

/** Options of `redisStore`: where Redis is (see RedisConnectionOptions) and how the data is kept. */
export interface RedisStoreOptions extends RedisConnectionOptions {
  /** Namespace of every key (default "gk"); no braces. Two gatekeepers sharing a prefix share entities. */
  prefix?: string;
  /** Fixed number of shards entities are hashed to (default 16). Recorded in Redis; must never change for a prefix. */
  shards?: number;
  /** Keep applied transitions in per-shard outbox streams until acknowledged (default false). */
  outbox?: boolean;
  /**
   * Keep applied transitions in per-shard effects streams for a transition handler (default
   * false; see ../effect-queue.ts). Independent of `outbox`: with both, each row is sent once and
   * written to both streams by the same commit.
   */
  effects?: boolean;
  /**
   * Dead letters are published by a relay even without `outbox` (the Kafka runtime with
   * `topics.output: false`): none is dropped unpublished, as with `outbox` (default: `outbox`).
   */
  relayDeadLetters?: boolean;
  /** Decisions kept per entity for `history` (default 100; 0 keeps none). */
  historyLimit?: number;
  /**
   * Dead letters kept in all (default 100,000, enforced per shard as limit / shards; 0 = unbounded).
   * With `outbox` (a relay publishes them) none is ever dropped unpublished: at the bound, decisions
   * that would add one are refused with DeadLettersFullError until the relay catches up. Without
   * `outbox` (nobody reads them) the oldest go.
   */
  deadLetterLimit?: number;
  /** The same bound in bytes of dead-letter JSON (default 256 MiB, per shard as limit / shards; 0 = unbounded). */
  deadLetterByteLimit?: number;
  /**
   * Expire an entity's keys this long after it reached a final state with nothing buffered or parked
   * (default: never). Only safe when no event for it can arrive later: an expired entity starts afresh.
   */
  finalEntityTtlMs?: number;
  /** Deadline of one store operation, after which it fails with StoreUnavailableError (default 10 s). */
  operationTimeoutMs?: number;
  /**
   * Only read (inspect, history, stalled, the web view): the namespace is checked, never claimed,
   * and every write is refused, so the store works on a full Redis, a replica, a read-only ACL user.
   */
  readOnly?: boolean;
  /**
   * Run on a Redis whose maxmemory-policy may evict keys (default false: refused at start). Only
   * for managed services that hide the setting; `onWarning` is told loudly.
   */
  allowEvictingRedis?: boolean;
  /** Told about conditions worth an operator's attention (an evicting Redis allowed explicitly). */
  onWarning?: (message: string) => void;
  /**
   * How entities map to shards (default: a hash of aggregate and key). Recorded in Redis with the
   * shard count; a process with another sharding refuses to start. The Kafka runtime passes one
   * shard per input partition (`kafka-partitions`).
   */
  sharding?: Sharding;
  /**
   * Fence every write by the shard's claim (see shard-claims.ts): this process writes only for the
   * shards it claimed through `ownership.claim`, under this owner name. The Kafka runtime sets it,
   * with one ShardClaims shared by its deciding and its publishing store.
   */
  claims?: { owner: string } | ShardClaims;
  /**
   * Use the shard count and sharding recorded for the prefix, whatever `shards` and `sharding` say
   * (for operator tools reading a namespace that `gatekeeper run` made). The recorded layout is
   * read once, before the store's first operation (every method waits for it); `keys` shows it
   * once `ready()` (or any operation) resolved.
   */
  recordedLayout?: boolean;
}

/** What the store keeps of its options (the connection's own options go to connection.ts). */
export interface StoreSettings {
  readonly keepOutbox: boolean;
  readonly keepEffects: boolean;
  /** commitBatch.lua's effects flag: "" (none), "e" (outbox and effects), "E" (effects only). */
  readonly effectsMode: '' | 'e' | 'E';
  readonly historyLimit: number;
  /** Dead letters kept in all, before dividing by the shard count (0 = unbounded). */
  readonly deadLetterLimit: number;
  /** Bytes of dead-letter JSON kept in all, before dividing by the shard count (0 = unbounded). */
  readonly deadLetterByteLimit: number;
  /** 1: trim the oldest dead letters past the bound (nobody relays them); 0: refuse at the bound. */
  readonly deadLetterTrim: 0 | 1;
  /** `recordedLayout`. */
  readonly adoptLayout: boolean;
  /** 0: never expire. */
  readonly finalEntityTtlMs: number;
  readonly operationTimeoutMs: number;
  readonly commitSettings: CommitArgsSettings;
  readonly readOnly: boolean;
  readonly allowEviction: boolean;
  readonly warn: (message: string) => void;
}

/** Applies the defaults and checks the numbers; throws InvalidConfigError on the first bad one. */
export function storeSettings(options: RedisStoreOptions): StoreSettings {
  const keepOutbox = options.outbox ?? false;
  const keepEffects = options.effects ?? false;
  const historyLimit = count('historyLimit', options.historyLimit ?? DEFAULT_HISTORY_LIMIT);
  const deadLetterLimit = count('deadLetterLimit', options.deadLetterLimit ?? 100_000);
  const deadLetterByteLimit = count('deadLetterByteLimit', options.deadLetterByteLimit ?? 256 * 1024 * 1024);
  const finalEntityTtlMs =
    options.finalEntityTtlMs === undefined ? 0 : positive('finalEntityTtlMs', options.finalEntityTtlMs);
  const operationTimeoutMs = positive('operationTimeoutMs', options.operationTimeoutMs ?? 10_000);
  return {
    keepOutbox,
    keepEffects,
    effectsMode: keepEffects ? (keepOutbox ? 'e' : 'E') : '',
    historyLimit,
    deadLetterLimit,
    deadLetterByteLimit,
    deadLetterTrim: (options.relayDeadLetters ?? keepOutbox) ? 0 : 1,
    adoptLayout: options.recordedLayout ?? false,
    finalEntityTtlMs,
    operationTimeoutMs,
    commitSettings: {
      // Sent once, written to the outbox, the effects stream or both (commitBatch.lua).
      sendApplied: keepOutbox || keepEffects,
      historyLimit,
      finalEntityTtlMs,
    },
    readOnly: options.readOnly ?? false,
    allowEviction: options.allowEvictingRedis ?? false,
    warn: options.onWarning ?? ((message) => process.emitWarning(message, 'GatekeeperWarning')),
  };
}

function count(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new InvalidConfigError(`redis store: ${name} must be a whole number >= 0 (got ${value})`);
  return value;
}

function positive(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0)
    throw new InvalidConfigError(`redis store: ${name} must be a positive whole number (got ${value})`);
  return value;
}
