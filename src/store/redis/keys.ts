/**
 * Every Redis key name the store uses is built here, and nowhere else.
 *
 * Layout (P = prefix, N = shard number, E = encoded entity id):
 *   {P:N}:e:E        hash    one entity: version, snapshot, lastSeq, parked, seen ids, buffer entries
 *   {P:N}:h:E        list    the entity's decision history, newest first (LPUSH + LTRIM)
 *   {P:N}:outbox     stream  applied transitions of the shard's entities, until acknowledged
 *   {P:N}:dead       stream  dead letters of the shard's entities (and of input naming none), until acknowledged
 *   {P:N}:deadBytes  string  bytes of the dead letters in {P:N}:dead (the store's byte bound)
 *   {P:N}:stalled    zset    E scored by the oldest buffered event's arrival (ms)
 *   {P:N}:parked     zset    E scored by when the entity parked or was held (ms): the attention index
 *   {P:N}:versions   hash    per aggregate and machine version: c:<len>:<aggregate><version> = entities,
 *                            f:<len>:<aggregate><version> = first committed at (ms)
 *   {P}:meta         hash    the namespace's shard count and sharding, checked by every process
 *   {P:N}:marker     string  the shard exists; written once, its absence means Redis lost data
 *   {P:N}:owner      hash    the shard's claim: epoch (bumped by each new owner) and owner name
 *   {P:N}:effects    stream  applied transitions a transition handler has yet to run (effect-queue.ts)
 *   {P:N}:effects:failed    hash  E = "<failure JSON>\n<identity>|<transition JSON>": the failure log
 *   {P:N}:effects:holding   set   E of entities whose holding list is not empty
 *   {P:N}:effects:attempts  hash  transition identity = failed attempts so far
 *   {P:N}:effects:skipped   stream  effects an operator skipped (the newest 1,000)
 *   {P:N}:effects:held:E    list  the entity's held effects, "<identity>|<transition JSON>", oldest first
 *
 * Each entity belongs to one of a fixed number of shards and its keys carry the shard's hash tag,
 * so one Lua script can write the entity and its shard's outbox, dead letters and indexes on
 * Redis Cluster without CROSSSLOT. The tag is always the first thing in a key name and the prefix
 * may not contain braces, so nothing in an entity key can change the slot.
 */
import { InvalidConfigError } from '../../core/errors.ts';
import type { EntityRef } from '../entity-store.ts';

/** Where the keys of one entity live. */
export interface EntityKeys extends EntityRef {
  shard: number;
  /** The encoded entity id: the member of the stalled and parked indexes. */
  member: string;
  state: string;
  history: string;
  /** The entity's holding list of effects waiting behind a failed one. */
  effectsHeld: string;
}

/** The shard-wide keys. */
export interface ShardKeys {
  /** Written when the namespace is claimed and never deleted: its absence later means Redis lost data. */
  marker: string;
  outbox: string;
  dead: string;
  deadBytes: string;
  stalled: string;
  parked: string;
  versions: string;
  owner: string;
  effects: string;
  effectsFailed: string;
  effectsHolding: string;
  effectsAttempts: string;
  effectsSkipped: string;
}

/**
 * How entities map to shards. `hash` (the library's default): FNV-1a of aggregate and key. With
 * Kafka, `kafka-partitions`: the input partition the entity's key lands on, one shard per partition.
 */
export interface Sharding {
  readonly kind: string;
  shardOf(ref: EntityRef): number;
  /** The shard of an input's source (e.g. its Kafka partition), when the sharding follows the input. */
  shardOfSource?(source: Record<string, unknown> | undefined): number | undefined;
}

export const DEFAULT_PREFIX = 'gk';
export const DEFAULT_SHARDS = 16;
export const MAX_SHARDS = 16_384;

/** Builds the key names for one namespace. */
export class KeySpace {
  readonly meta: string;
  private readonly shardKeys: ShardKeys[];
  /** The gatekeeper passes one ref object per resident entity: its key names are built once. */
  private readonly cache = new WeakMap<EntityRef, EntityKeys>();
  private nextSpread = 0;

  readonly sharding: Sharding;

  constructor(
    readonly prefix: string,
    readonly shards: number,
    sharding?: Sharding,
  ) {
    this.sharding = sharding ?? { kind: 'hash', shardOf: (ref) => shardOf(ref, shards) };
    validatePrefix(prefix);
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) {
      throw new InvalidConfigError(
        `redis store: shards must be an integer from 1 to ${MAX_SHARDS} (got ${shards})`,
      );
    }
    this.meta = `{${prefix}}:meta`;
    this.shardKeys = Array.from({ length: shards }, (_, shard) => {
      const tag = this.tag(shard);
      return {
        marker: `${tag}:marker`,
        outbox: `${tag}:outbox`,
        dead: `${tag}:dead`,
        deadBytes: `${tag}:deadBytes`,
        stalled: `${tag}:stalled`,
        parked: `${tag}:parked`,
        versions: `${tag}:versions`,
        owner: `${tag}:owner`,
        effects: `${tag}:effects`,
        effectsFailed: `${tag}:effects:failed`,
        effectsHolding: `${tag}:effects:holding`,
        effectsAttempts: `${tag}:effects:attempts`,
        effectsSkipped: `${tag}:effects:skipped`,
      };
    });
  }

  entity(ref: EntityRef): EntityKeys {
    const cached = this.cache.get(ref);
    // A ref is a plain object: only trust the cache while its fields are what they were.
    if (cached && cached.aggregate === ref.aggregate && cached.key === ref.key) return cached;
    const member = encodeEntityId(ref);
    const shard = this.sharding.shardOf(ref);
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.shards)
      throw new RangeError(
        `the ${this.sharding.kind} sharding put ${member} on shard ${shard}, outside 0..${this.shards - 1}`,
      );
    const tag = this.tag(shard);
    const keys = {
      aggregate: ref.aggregate,
      key: ref.key,
      shard,
      member,
      state: `${tag}:e:${member}`,
      history: `${tag}:h:${member}`,
      effectsHeld: `${tag}:effects:held:${member}`,
    };
    this.cache.set(ref, keys);
    return keys;
  }

  shard(shard: number): ShardKeys {
    const keys = this.shardKeys[shard];
    if (!keys) throw new RangeError(`shard ${shard} is outside 0..${this.shards - 1}`);
    return keys;
  }

  /** The shard of an entity identity that belongs to no committed decision (stable for the same identity). */
  shardForIdentity(aggregate: string | null, key: string | null): number {
    return this.sharding.shardOf({ aggregate: aggregate ?? '', key: key ?? '' });
  }

  /**
   * The shard of a dead letter. With a sharding that follows the input (Kafka), the shard of the
   * record's source: the member owning that partition publishes it. Otherwise its entity's, when it
   * names a key (so one entity's letters stay in order), else spread over all shards — by where the
   * input came from (a line number, coordinates) or, without a source, round-robin — so a flood of
   * garbage does not fill one shard's stream. The one place that decides it, for every kind of input.
   */
  shardForDeadLetter(letter: {
    aggregate: string | null;
    key: string | null;
    source?: Readonly<Record<string, unknown>> | undefined;
  }): number {
    const fromSource = this.sharding.shardOfSource?.(letter.source);
    if (
      fromSource !== undefined &&
      Number.isInteger(fromSource) &&
      fromSource >= 0 &&
      fromSource < this.shards
    )
      return fromSource;
    if (letter.key !== null) return this.shardForIdentity(letter.aggregate, letter.key);
    if (letter.source !== undefined) {
      const where = Object.entries(letter.source)
        .map(([field, value]) => `${field}=${String(value)}`)
        .join('\u0000');
      return shardOf({ aggregate: '\u0000source', key: where }, this.shards);
    }
    this.nextSpread = (this.nextSpread + 1) % this.shards;
    return this.nextSpread;
  }

  private tag(shard: number): string {
    return `{${this.prefix}:${shard}}`;
  }
}

function validatePrefix(prefix: string): void {
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > 128) {
    throw new InvalidConfigError('redis store: prefix must be a non-empty string of at most 128 characters');
  }
  // Braces would move or split the hash tag; a lone surrogate would not round-trip through UTF-8.
  if (/[{}]/.test(prefix) || !isWellFormed(prefix)) {
    throw new InvalidConfigError(
      `redis store: prefix ${JSON.stringify(prefix)} must not contain "{", "}" or unpaired surrogates`,
    );
  }
}

/**
 * An injective text form of (aggregate, key). Well-formed strings are kept readable:
 * `u<aggregate length>:<aggregate><key>`; the length prefix makes the split unambiguous whatever
 * the key contains. Strings with unpaired UTF-16 surrogates would all turn into U+FFFD on their
 * way to Redis (UTF-8) and collide, so they are written as hex code units instead: `w<hex>:<hex>`.
 */
export function encodeEntityId(ref: EntityRef): string {
  if (isWellFormed(ref.aggregate) && isWellFormed(ref.key))
    return `u${ref.aggregate.length}:${ref.aggregate}${ref.key}`;
  return `w${toHexUnits(ref.aggregate)}:${toHexUnits(ref.key)}`;
}

/** The inverse of encodeEntityId; undefined for text it cannot have produced. */
export function decodeEntityId(member: string): EntityRef | undefined {
  const colon = member.indexOf(':');
  if (colon < 2) return undefined;
  if (member[0] === 'u') {
    const length = Number(member.slice(1, colon));
    if (!Number.isSafeInteger(length) || length < 0) return undefined;
    const rest = member.slice(colon + 1);
    if (rest.length < length) return undefined;
    return { aggregate: rest.slice(0, length), key: rest.slice(length) };
  }
  if (member[0] === 'w') {
    const aggregate = fromHexUnits(member.slice(1, colon));
    const key = fromHexUnits(member.slice(colon + 1));
    return aggregate === undefined || key === undefined ? undefined : { aggregate, key };
  }
  return undefined;
}

/** The hash field of a buffered event: injective in the event id, like encodeEntityId. */
export function bufferField(eventId: string): string {
  return isWellFormed(eventId) ? `b:${eventId}` : `B:${toHexUnits(eventId)}`;
}

export function isBufferField(field: string): boolean {
  return field.startsWith('b:') || field.startsWith('B:');
}

/**
 * FNV-1a (32 bit) over the UTF-16 code units of `aggregate NUL key`, modulo the shard count.
 * Stable across processes and releases: changing it (or the shard count) moves entities, which is
 * why the shard count is recorded in `{P}:meta` and checked on connect.
 */
export function shardOf(ref: EntityRef, shards: number): number {
  let hash = 0x811c9dc5;
  const text = `${ref.aggregate}\u0000${ref.key}`;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True when the string has no unpaired surrogate, so it survives UTF-8 unchanged. */
export function isWellFormed(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

function toHexUnits(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i += 1) out += text.charCodeAt(i).toString(16).padStart(4, '0');
  return out;
}

function fromHexUnits(hex: string): string | undefined {
  if (hex.length % 4 !== 0 || !/^[0-9a-f]*$/.test(hex)) return undefined;
  let out = '';
  for (let i = 0; i < hex.length; i += 4) out += String.fromCharCode(parseInt(hex.slice(i, i + 4), 16));
  return out;
}

/**
 * The field of one aggregate and machine version in a shard's versions hash, without its
 * `c:` / `f:` kind: `<aggregate length>:<aggregate><version>`, unambiguous whatever either holds.
 */
export function versionField(aggregate: string, version: string): string {
  return `${aggregate.length}:${aggregate}${version}`;
}

/** The inverse of versionField (after the kind); undefined for text it cannot have produced. */
export function parseVersionField(field: string): { aggregate: string; version: string } | undefined {
  const colon = field.indexOf(':');
  const length = Number(field.slice(0, colon));
  if (colon < 1 || !Number.isSafeInteger(length) || field.length < colon + 1 + length) return undefined;
  const rest = field.slice(colon + 1);
  return { aggregate: rest.slice(0, length), version: rest.slice(length) };
}
