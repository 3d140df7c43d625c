/**
 * The durable store: entity state in Redis (standalone, Sentinel or Cluster) through ioredis.
 * Every commit runs in a Lua script that checks the entity's version first and then writes the
 * whole decision — entity, buffer, outbox, dead letters, history, indexes — or nothing. Commits
 * made in the same turn of the event loop share one script call per shard (commit-batcher.ts).
 */
import { DEFAULT_HISTORY_LIMIT, type HistoryEntry } from '../../core/history.ts';
import { InvalidConfigError, StoreUnavailableError } from '../../core/errors.ts';
import type { AppliedTransition, DeadLetter } from '../../core/outcome.ts';
import type {
  CommitResult,
  EntityCommit,
  EntityRef,
  EntityStore,
  QueuedItem,
  ScannedEntity,
  StalledEntity,
  StoredEntity,
  StoredVersion,
} from '../entity-store.ts';
import { DeadLettersFullError } from '../dead-letters-full-error.ts';
import { DEAD_SOURCE_WINDOW, inputRecordOf } from './dead-sources.ts';
import { deadLetterJson, decodeEntity, parse } from './codec.ts';
import { commitArgs, type CommitArgsSettings } from './commit-args.ts';
import { sendLoadBatch, type LoadAnswer, type PendingLoad } from './load-batch.ts';
import { openClient, toStoreError, type OpenedClient, type RedisConnectionOptions } from './connection.ts';
import { checkNamespace, lostEntity } from './namespace.ts';
import { CommitBatcher, type PendingCommit } from './commit-batcher.ts';
import { historyEntryFrom } from './history-codec.ts';
import {
  decodeEntityId,
  DEFAULT_PREFIX,
  DEFAULT_SHARDS,
  KeySpace,
  type EntityKeys,
  type Sharding,
} from './keys.ts';
import { ownedShards, type OwnedShards } from './owned-shards.ts';
import { keySpaceFor } from './reshard.ts';
import { ShardClaims } from './shard-claims.ts';
import { defineScripts, runScript, type RedisClient } from './scripts.ts';
import type { EffectStore } from '../effect-queue.ts';
import { redisEffects } from './redis-effects.ts';
import { ackStreams, readIndexes, readStreams } from './shard-reads.ts';
import { readVersions, scanEntities } from './version-reads.ts';

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

/** The Redis store, with the client and key layout reachable for tools and tests. */
export interface RedisStore extends EntityStore {
  readonly client: RedisClient;
  readonly keys: KeySpace;
  /** Resolves once Redis answered and the namespace's shard count matched; rejects like any operation. */
  ready(): Promise<void>;
  /** Present with the `claims` option: the shards this process holds and their queues. */
  readonly ownership: OwnedShards | undefined;
  /** The effects queue (read by any store; appended to only with `effects: true`). */
  readonly effects: EffectStore;
}

/** Layout version recorded in `{prefix}:meta`; bumped when the key layout changes incompatibly. */
const LAYOUT_VERSION = '1';

/** Creates the Redis store. The client connects at once and reconnects forever (see connection.ts). */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisEntityStore(options);
}

class RedisEntityStore implements RedisStore {
  readonly client: RedisClient;
  keys: KeySpace;
  private readonly owned: boolean;
  private readonly connection: Pick<OpenedClient, 'where' | 'lastError' | 'configError'>;
  private readonly keepOutbox: boolean;
  private readonly keepEffects: boolean;
  /** commitBatch.lua's effects flag: "" (none), "e" (outbox and effects), "E" (effects only). */
  private readonly effectsMode: '' | 'e' | 'E';
  readonly effects: EffectStore;
  private readonly historyLimit: number;
  private deadLetterMaxLen = 0;
  private deadLetterMaxBytes = 0;
  private readonly deadLetterLimit: number;
  private readonly deadLetterByteLimit: number;
  /** 1: trim the oldest dead letters past the bound (nobody relays them); 0: refuse at the bound. */
  private readonly deadLetterTrim: 0 | 1;
  private readonly adoptLayout: boolean;
  private readonly finalEntityTtlMs: number;
  private readonly operationTimeoutMs: number;
  private outboxKeys: string[] = [];
  private deadKeys: string[] = [];
  private stalledKeys: string[] = [];
  private parkedKeys: string[] = [];
  private namespaceChecked: Promise<void> | undefined;
  private namespaceReady = false;
  /** False until a `recordedLayout` store read the layout recorded for its prefix. */
  private layoutKnown: boolean;
  private layoutRead: Promise<void> | undefined;
  /** Every shard has its marker: a load that finds nothing also checks that the marker is there. */
  private marked = false;
  private readonly readOnly: boolean;
  private readonly allowEviction: boolean;
  private readonly warn: (message: string) => void;
  private readonly inFlight = new Set<InFlight>();
  private watchdog: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly batcher = new CommitBatcher((shard, batch) => this.sendBatch(shard, batch), 128);
  private readonly loads = new CommitBatcher<PendingLoad>(
    (shard, batch) =>
      sendLoadBatch(this.client, this.keys.shard(shard).marker, batch, {
        marker: this.marked,
        history: this.allowEviction && this.historyLimit > 0,
      }),
    128,
  );
  private readonly commitSettings: CommitArgsSettings;
  private readonly claims: ShardClaims | undefined;
  readonly ownership: OwnedShards | undefined;

  constructor(options: RedisStoreOptions) {
    this.keys = new KeySpace(
      options.prefix ?? DEFAULT_PREFIX,
      options.shards ?? DEFAULT_SHARDS,
      options.sharding,
    );
    this.keepOutbox = options.outbox ?? false;
    this.keepEffects = options.effects ?? false;
    this.effectsMode = this.keepEffects ? (this.keepOutbox ? 'e' : 'E') : '';
    this.historyLimit = count('historyLimit', options.historyLimit ?? DEFAULT_HISTORY_LIMIT);
    const deadLetterLimit = count('deadLetterLimit', options.deadLetterLimit ?? 100_000);
    this.deadLetterLimit = deadLetterLimit;
    this.deadLetterByteLimit = count('deadLetterByteLimit', options.deadLetterByteLimit ?? 256 * 1024 * 1024);
    this.deadLetterTrim = (options.relayDeadLetters ?? this.keepOutbox) ? 0 : 1;
    this.adoptLayout = options.recordedLayout ?? false;
    this.layoutKnown = !this.adoptLayout;
    this.finalEntityTtlMs =
      options.finalEntityTtlMs === undefined ? 0 : positive('finalEntityTtlMs', options.finalEntityTtlMs);
    this.operationTimeoutMs = positive('operationTimeoutMs', options.operationTimeoutMs ?? 10_000);
    this.commitSettings = {
      // Sent once, written to the outbox, the effects stream or both (commitBatch.lua).
      sendApplied: this.keepOutbox || this.keepEffects,
      historyLimit: this.historyLimit,
      finalEntityTtlMs: this.finalEntityTtlMs,
    };
    this.readOnly = options.readOnly ?? false;
    this.allowEviction = options.allowEvictingRedis ?? false;
    this.warn = options.onWarning ?? ((message) => process.emitWarning(message, 'GatekeeperWarning'));
    this.useKeys(this.keys);
    const opened = openClient(options);
    this.client = opened.client;
    this.owned = opened.owned;
    this.connection = opened;
    defineScripts(this.client);
    // Two stores of one process (deciding and publishing connections) may share one set of claims.
    this.claims =
      options.claims === undefined || options.claims instanceof ShardClaims
        ? options.claims
        : new ShardClaims(options.claims.owner);
    this.effects = redisEffects({
      client: this.client,
      keys: () => this.keys,
      claims: this.claims,
      run: (operation, work) => this.run(operation, work),
      enabled: this.keepEffects,
    });
    this.ownership =
      this.claims === undefined
        ? undefined
        : ownedShards(this.client, this.keys, this.claims, (operation, work) => this.run(operation, work));
  }

  ready(): Promise<void> {
    if (!this.layoutKnown) return this.afterLayout(() => this.ready());
    return this.run('connect', () => Promise.resolve());
  }

  load(ref: EntityRef): Promise<StoredEntity | undefined> {
    if (!this.layoutKnown) return this.afterLayout(() => this.load(ref));
    const keys = this.keys.entity(ref);
    return this.run('load', async () => {
      // The marker is read in the same round trip: nothing found AND no marker means Redis lost
      // the shard, and the entity must not be taken for a new one.
      // Where eviction was allowed, single keys can go too: an entity hash gone while its history
      // list is still there was evicted (both expire together otherwise).
      const [fields, marker, history] = this.readOnly
        ? await Promise.all([
            this.client.hgetall(keys.state),
            this.marked ? this.client.get(this.keys.shard(keys.shard).marker) : Promise.resolve('unchecked'),
            this.allowEviction && this.historyLimit > 0
              ? this.client.exists(keys.history)
              : Promise.resolve(0),
          ])
        : await this.loadBatched(keys);
      const entity = decodeEntity(fields, `${ref.aggregate}/${ref.key}`);
      if (entity === undefined && (marker === null || history > 0))
        throw lostEntity(
          { where: this.connection.where, keys: this.keys },
          `${ref.aggregate}/${ref.key}`,
          marker === null ? 'shard marker' : 'state (its history is still there)',
        );
      return entity;
    });
  }

  commit(ref: EntityRef, commit: EntityCommit): Promise<CommitResult> {
    if (!this.layoutKnown) return this.afterLayout(() => this.commit(ref, commit));
    if (this.readOnly) return Promise.reject(this.readOnlyError('commit'));
    const keys = this.keys.entity(ref);
    // Serialise before anything is sent: a value that cannot be JSON fails the commit, not the script.
    let args: string[];
    try {
      args = commitArgs(this.commitSettings, keys.member, ref, commit);
    } catch (error) {
      return Promise.reject(toStoreError(error, 'commit'));
    }
    return new Promise<CommitResult>((resolve, reject) =>
      this.batcher.add(keys.shard, {
        stateKey: keys.state,
        historyKey: keys.history,
        args,
        resolve,
        reject,
      }),
    );
  }

  recordDeadLetter(letter: DeadLetter): Promise<void> {
    if (!this.layoutKnown) return this.afterLayout(() => this.recordDeadLetter(letter));
    const shardNumber = this.keys.shardForDeadLetter(letter);
    const shard = this.keys.shard(shardNumber);
    const json = deadLetterJson(letter);
    const claims = this.claims;
    const input = inputRecordOf(letter.source);
    return this.run('recordDeadLetter', async () => {
      const reply = Number(
        await runScript(
          this.client,
          'recordDeadLetter',
          [shard.dead, shard.deadBytes, shard.owner, this.keys.deadSources(shardNumber, input?.topic ?? '')],
          [
            json,
            this.deadLetterMaxLen,
            this.deadLetterMaxBytes,
            this.deadLetterTrim,
            claims ? claims.epochFor(shardNumber) : '',
            input ? `${input.partition}/${input.offset}` : '',
            input?.offset ?? 0,
            DEAD_SOURCE_WINDOW,
          ],
        ),
      );
      if (reply === -2) throw this.deadLettersFull();
      if (reply === -3 && claims) throw claims.fenced(shardNumber);
    });
  }

  history(ref: EntityRef): Promise<HistoryEntry[]> {
    if (!this.layoutKnown) return this.afterLayout(() => this.history(ref));
    const keys = this.keys.entity(ref);
    return this.run('history', async () => {
      const entries = await this.client.lrange(keys.history, 0, -1);
      return entries
        .reverse()
        .map((entry) => historyEntryFrom(parse<unknown>(entry, `history of ${ref.aggregate}/${ref.key}`)));
    });
  }

  stalled(before: number, limit: number): Promise<StalledEntity[]> {
    if (!this.layoutKnown) return this.afterLayout(() => this.stalled(before, limit));
    return this.run('stalled', async () => {
      const found = await readIndexes(this.client, this.indexKeys(this.stalledKeys), before, limit);
      return found.flatMap(({ member, score }) => {
        const ref = decodeEntityId(member);
        return ref ? [{ ...ref, oldestBufferedAt: score }] : [];
      });
    });
  }

  parked(limit: number): Promise<EntityRef[]> {
    if (!this.layoutKnown) return this.afterLayout(() => this.parked(limit));
    return this.run('parked', async () => {
      const found = await readIndexes(this.client, this.indexKeys(this.parkedKeys), undefined, limit);
      return found.flatMap(({ member }) => decodeEntityId(member) ?? []);
    });
  }

  versions(): Promise<StoredVersion[]> {
    if (!this.layoutKnown) return this.afterLayout(() => this.versions());
    return this.read('versions', () => readVersions(this.client, this.keys));
  }

  scan(aggregate: string, visit: (entity: ScannedEntity) => void): Promise<void> {
    if (!this.layoutKnown) return this.afterLayout(() => this.scan(aggregate, visit));
    return this.read('scan', () => scanEntities(this.client, this.keys, aggregate, visit));
  }

  readOutbox(limit: number): Promise<QueuedItem<AppliedTransition>[]> {
    if (!this.layoutKnown) return this.afterLayout(() => this.readOutbox(limit));
    return this.run('readOutbox', () =>
      readStreams<AppliedTransition>(this.client, this.outboxKeys, limit, 'outbox'),
    );
  }

  ackOutbox(ids: readonly string[]): Promise<void> {
    if (!this.layoutKnown) return this.afterLayout(() => this.ackOutbox(ids));
    if (this.readOnly) return Promise.reject(this.readOnlyError('ackOutbox'));
    return this.run('ackOutbox', () => ackStreams(this.client, this.outboxKeys, ids));
  }

  readDeadLetters(limit: number): Promise<QueuedItem<DeadLetter>[]> {
    if (!this.layoutKnown) return this.afterLayout(() => this.readDeadLetters(limit));
    return this.run('readDeadLetters', () =>
      readStreams<DeadLetter>(this.client, this.deadKeys, limit, 'dead-letter'),
    );
  }

  ackDeadLetters(ids: readonly string[]): Promise<void> {
    if (!this.layoutKnown) return this.afterLayout(() => this.ackDeadLetters(ids));
    return this.run('ackDeadLetters', () =>
      ackStreams(this.client, this.deadKeys, ids, (key, shard, streamIds) =>
        runScript(
          this.client,
          'ackDeadLetters',
          [key, this.keys.shard(shard).deadBytes, this.keys.shard(shard).owner],
          ['', ...streamIds],
        ),
      ),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.watchdog) clearInterval(this.watchdog);
    if (!this.owned) return;
    // QUIT lets pending replies arrive; when Redis is unreachable or hung, drop the connection
    // after a second instead: close() itself must honour a deadline.
    let timer: NodeJS.Timeout | undefined;
    // Not connected (yet): nothing to wait for.
    if (this.client.status === 'ready')
      await Promise.race([
        this.client.quit().then(
          () => undefined,
          () => undefined,
        ),
        new Promise<void>((resolve) => (timer = setTimeout(resolve, 1_000))),
      ]);
    clearTimeout(timer);
    this.client.disconnect();
  }

  // --- internals -------------------------------------------------------------------------------

  private deadLettersFull(): DeadLettersFullError {
    const bounds = [
      this.deadLetterMaxLen > 0 ? `${this.deadLetterMaxLen} entries` : '',
      this.deadLetterMaxBytes > 0 ? `${this.deadLetterMaxBytes} bytes` : '',
    ].filter((bound) => bound !== '');
    return new DeadLettersFullError('redis store', `${bounds.join(' or ')} per shard`);
  }

  /** Derives the per-shard key lists and limits from a key space. */
  private useKeys(keys: KeySpace): void {
    this.keys = keys;
    this.deadLetterMaxLen = this.deadLetterLimit === 0 ? 0 : Math.ceil(this.deadLetterLimit / keys.shards);
    this.deadLetterMaxBytes =
      this.deadLetterByteLimit === 0 ? 0 : Math.ceil(this.deadLetterByteLimit / keys.shards);
    const shards = Array.from({ length: keys.shards }, (_, shard) => keys.shard(shard));
    this.outboxKeys = shards.map((shardKeys) => shardKeys.outbox);
    this.deadKeys = shards.map((shardKeys) => shardKeys.dead);
    this.stalledKeys = shards.map((shardKeys) => shardKeys.stalled);
    this.parkedKeys = shards.map((shardKeys) => shardKeys.parked);
  }

  /** With claims, the sweeper looks only at the shards this process holds (the others are not its to decide). */
  private indexKeys(all: readonly string[]): readonly string[] {
    return this.claims ? this.claims.held().map((shard) => all[shard] as string) : all;
  }

  /** A writing store's load, batched with the shard's other loads of this turn (load-batch.ts). */
  private loadBatched(keys: EntityKeys): Promise<LoadAnswer> {
    return new Promise<LoadAnswer>((resolve, reject) =>
      this.loads.add(keys.shard, { stateKey: keys.state, historyKey: keys.history, resolve, reject }),
    );
  }

  /** One script call for one shard's batch; each commit gets its own reply, or the call's error. */
  private sendBatch(shard: number, batch: readonly PendingCommit[]): void {
    const shardKeys = this.keys.shard(shard);
    const keyList = [
      shardKeys.stalled,
      shardKeys.parked,
      shardKeys.outbox,
      shardKeys.dead,
      shardKeys.deadBytes,
      shardKeys.versions,
    ];
    const argv: string[] = [
      `${batch.length}${this.effectsMode}`,
      String(this.historyLimit),
      String(this.deadLetterMaxLen),
      String(this.deadLetterMaxBytes),
      String(this.deadLetterTrim),
    ];
    for (const pending of batch) {
      keyList.push(pending.stateKey, pending.historyKey);
      for (const arg of pending.args) argv.push(arg);
    }
    if (this.effectsMode !== '') keyList.push(shardKeys.effects);
    const claims = this.claims;
    if (claims) {
      // The shard's claim travels with the batch and is checked by the script before any write.
      let epoch: string;
      try {
        epoch = claims.epochFor(shard);
      } catch (error) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      keyList.push(shardKeys.owner);
      argv.push(epoch);
    }
    this.run('commit', () => runScript(this.client, 'commitBatch', keyList, argv)).then(
      (replies) => {
        if (claims && Number(replies) === -3) {
          const error = claims.fenced(shard);
          for (const pending of batch) pending.reject(error);
          return;
        }
        const list = Array.isArray(replies) ? (replies as unknown[]) : [];
        // Mapped here rather than by a `.then` per commit: one promise and microtask less each.
        batch.forEach((pending, index) => {
          let result: CommitResult;
          try {
            result = commitResult(list[index], () => this.deadLettersFull());
          } catch (error) {
            pending.reject(error);
            return;
          }
          pending.resolve(result);
        });
      },
      (error: unknown) => {
        for (const pending of batch) pending.reject(error);
      },
    );
  }

  /**
   * Runs one operation after the namespace check, under the store's deadline, mapping failures.
   * The deadline is kept by one unref'd interval timer for all operations rather than a timer each:
   * an operation still waiting past it is failed with StoreUnavailableError (ioredis may still
   * deliver its command later; a late commit is harmless, the version fence decides).
   */
  private run<TResult>(operation: string, work: () => Promise<TResult>): Promise<TResult> {
    if (this.closed)
      return Promise.reject(new StoreUnavailableError(`redis store: ${operation} after close()`));
    let started: Promise<TResult>;
    try {
      started = this.namespaceReady ? work() : this.checkNamespace().then(work);
    } catch (error) {
      return Promise.reject(toStoreError(error, operation, this.connection));
    }
    return new Promise<TResult>((resolve, reject) => {
      const entry: InFlight = { deadline: Date.now() + this.operationTimeoutMs, operation, reject };
      this.inFlight.add(entry);
      this.watchdog ??= setInterval(
        () => this.expireOverdue(),
        Math.max(50, Math.min(1_000, this.operationTimeoutMs / 4)),
      ).unref();
      started.then(
        (value) => {
          this.inFlight.delete(entry);
          resolve(value);
        },
        (error: unknown) => {
          this.inFlight.delete(entry);
          reject(toStoreError(error, operation, this.connection));
        },
      );
    });
  }

  /**
   * A read that writes nothing, not even the namespace record (the dry run and version checks must
   * work on a replica and for a read-only user): the deadline and error mapping of `run` only.
   */
  private read<TResult>(operation: string, work: () => Promise<TResult>): Promise<TResult> {
    if (this.closed)
      return Promise.reject(new StoreUnavailableError(`redis store: ${operation} after close()`));
    return withDeadline(work(), this.operationTimeoutMs, operation).catch((error: unknown) => {
      throw toStoreError(error, operation, this.connection);
    });
  }

  private expireOverdue(): void {
    const now = Date.now();
    for (const entry of this.inFlight) {
      if (entry.deadline > now) continue;
      this.inFlight.delete(entry);
      entry.reject(
        new StoreUnavailableError(
          `redis store: ${entry.operation} got no answer within ${this.operationTimeoutMs} ms`,
        ),
      );
    }
  }

  /**
   * `recordedLayout`: reads the shard count and sharding recorded for the prefix once, then runs
   * `work`. Every public method goes through here until the layout is known, because each of them
   * derives its keys from the layout before it sends anything. A read only (replicas answer it);
   * a failed read is tried again by the next call.
   */
  private afterLayout<TResult>(work: () => Promise<TResult>): Promise<TResult> {
    if (this.closed) return Promise.reject(new StoreUnavailableError('redis store: used after close()'));
    this.layoutRead ??= withDeadline(
      this.client.hmget(this.keys.meta, 'shards', 'sharding'),
      this.operationTimeoutMs,
      'layout',
    ).then(
      ([shards, sharding]) => {
        // Operator tools read a namespace in whatever layout `gatekeeper run` made it.
        if (shards !== null) this.useKeys(keySpaceFor(this.keys.prefix, Number(shards), sharding ?? 'hash'));
        this.layoutKnown = true;
      },
      (error: unknown) => {
        this.layoutRead = undefined;
        throw toStoreError(error, 'layout', this.connection);
      },
    );
    return this.layoutRead.then(work);
  }

  /** Once per store: the namespace's checks (namespace.ts); a failed check is tried again next time. */
  private checkNamespace(): Promise<void> {
    this.namespaceChecked ??= (async () => {
      const state = await checkNamespace({
        client: this.client,
        keys: this.keys,
        layout: LAYOUT_VERSION,
        where: this.connection.where,
        readOnly: this.readOnly,
        allowEviction: this.allowEviction,
        warn: this.warn,
        configError: () => this.connection.configError(),
      });
      this.marked = state.marked;
      this.namespaceReady = true;
    })().catch((error: unknown) => {
      this.namespaceChecked = undefined;
      throw error;
    });
    return this.namespaceChecked;
  }

  private readOnlyError(operation: string): InvalidConfigError {
    return new InvalidConfigError(`redis store: ${operation} refused: this store was opened read-only`);
  }
}

interface InFlight {
  deadline: number;
  operation: string;
  reject: (error: unknown) => void;
}

function withDeadline<TResult>(work: Promise<TResult>, ms: number, operation: string): Promise<TResult> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new StoreUnavailableError(`redis store: ${operation} got no answer within ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

function commitResult(reply: unknown, full: () => Error): CommitResult {
  const version = Number(reply);
  if (version === -2) throw full();
  if (version < 0) return { ok: false, reason: 'version-conflict' };
  if (!Number.isSafeInteger(version) || version < 1)
    throw new StoreUnavailableError(`redis store: commit answered ${String(reply)}`);
  return { ok: true, version };
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
