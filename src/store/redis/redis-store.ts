/**
 * The durable store: entity state in Redis (standalone, Sentinel or Cluster) through ioredis.
 * Every commit runs in a Lua script that checks the entity's version first and then writes the
 * whole decision — entity, buffer, outbox, dead letters, history, indexes — or nothing. Commits
 * made in the same turn of the event loop share one script call per shard (group-commit.ts).
 *
 * This file wires the parts and is the store's face: every method waits for the recorded layout
 * (store-gate.ts) and hands over to the part that does the work — the commit path
 * (group-commit.ts), the reads (store-reads.ts), the outbox and dead letters (relay-queues.ts),
 * each running its operations under the store's deadline (store-operations.ts).
 */
import type { HistoryEntry } from '../../core/history.ts';
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
import type { EffectStore } from '../effect-queue.ts';
import { openClient, type OpenedClient } from './connection.ts';
import { GroupCommit } from './group-commit.ts';
import { DEFAULT_PREFIX, DEFAULT_SHARDS, KeySpace } from './keys.ts';
import { ownedShards, type OwnedShards } from './owned-shards.ts';
import { redisEffects } from './redis-effects.ts';
import { storeSettings, type RedisStoreOptions } from './redis-store-options.ts';
import { RelayQueues } from './relay-queues.ts';
import { defineScripts, type RedisClient } from './scripts.ts';
import { ShardClaims } from './shard-claims.ts';
import { StoreGate } from './store-gate.ts';
import { StoreLayout } from './store-layout.ts';
import { StoreOperations } from './store-operations.ts';
import { StoreReads } from './store-reads.ts';

export type { RedisStoreOptions } from './redis-store-options.ts';

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

/** Creates the Redis store. The client connects at once and reconnects forever (see connection.ts). */
export function redisStore(options: RedisStoreOptions = {}): RedisStore {
  return new RedisEntityStore(options);
}

class RedisEntityStore implements RedisStore {
  readonly client: RedisClient;
  readonly effects: EffectStore;
  readonly ownership: OwnedShards | undefined;
  private readonly owned: boolean;
  private readonly layout: StoreLayout;
  private readonly gate: StoreGate;
  private readonly operations: StoreOperations;
  private readonly commits: GroupCommit;
  private readonly reads: StoreReads;
  private readonly queues: RelayQueues;

  constructor(options: RedisStoreOptions) {
    const keys = new KeySpace(
      options.prefix ?? DEFAULT_PREFIX,
      options.shards ?? DEFAULT_SHARDS,
      options.sharding,
    );
    const settings = storeSettings(options);
    this.layout = new StoreLayout(keys, settings);
    const opened: OpenedClient = openClient(options);
    this.client = opened.client;
    this.owned = opened.owned;
    defineScripts(this.client);
    // Two stores of one process (deciding and publishing connections) may share one set of claims.
    const claims =
      options.claims === undefined || options.claims instanceof ShardClaims
        ? options.claims
        : new ShardClaims(options.claims.owner);
    this.gate = new StoreGate(this.client, this.layout, opened, settings);
    this.operations = new StoreOperations(this.gate, opened, settings.operationTimeoutMs);
    const operations = this.operations;
    this.commits = new GroupCommit(this.client, this.layout, operations, claims, settings);
    this.reads = new StoreReads(this.client, this.layout, this.gate, operations, opened, claims, settings);
    this.queues = new RelayQueues(
      this.client,
      this.layout,
      operations,
      claims,
      settings.deadLetterTrim,
      settings.readOnly,
    );
    this.effects = redisEffects({
      client: this.client,
      keys: () => this.layout.keys,
      claims,
      run: (operation, work) => operations.run(operation, work),
      enabled: settings.keepEffects,
    });
    this.ownership =
      claims === undefined
        ? undefined
        : ownedShards(this.client, this.layout.keys, claims, (operation, work) =>
            operations.run(operation, work),
          );
  }

  get keys(): KeySpace {
    return this.layout.keys;
  }

  ready(): Promise<void> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.ready());
    return this.operations.run('connect', () => Promise.resolve());
  }

  load(ref: EntityRef): Promise<StoredEntity | undefined> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.load(ref));
    return this.reads.load(ref);
  }

  commit(ref: EntityRef, commit: EntityCommit): Promise<CommitResult> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.commit(ref, commit));
    return this.commits.commit(ref, commit);
  }

  recordDeadLetter(letter: DeadLetter): Promise<void> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.recordDeadLetter(letter));
    return this.queues.recordDeadLetter(letter);
  }

  history(ref: EntityRef): Promise<HistoryEntry[]> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.history(ref));
    return this.reads.history(ref);
  }

  stalled(before: number, limit: number): Promise<StalledEntity[]> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.stalled(before, limit));
    return this.reads.stalled(before, limit);
  }

  parked(limit: number): Promise<EntityRef[]> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.parked(limit));
    return this.reads.parked(limit);
  }

  versions(): Promise<StoredVersion[]> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.versions());
    return this.reads.versions();
  }

  scan(aggregate: string, visit: (entity: ScannedEntity) => void): Promise<void> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.scan(aggregate, visit));
    return this.reads.scan(aggregate, visit);
  }

  readOutbox(limit: number): Promise<QueuedItem<AppliedTransition>[]> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.readOutbox(limit));
    return this.queues.readOutbox(limit);
  }

  ackOutbox(ids: readonly string[]): Promise<void> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.ackOutbox(ids));
    return this.queues.ackOutbox(ids);
  }

  readDeadLetters(limit: number): Promise<QueuedItem<DeadLetter>[]> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.readDeadLetters(limit));
    return this.queues.readDeadLetters(limit);
  }

  ackDeadLetters(ids: readonly string[]): Promise<void> {
    if (!this.gate.layoutKnown) return this.gate.afterLayout(() => this.ackDeadLetters(ids));
    return this.queues.ackDeadLetters(ids);
  }

  async close(): Promise<void> {
    if (this.gate.closed) return;
    this.gate.closed = true;
    this.operations.stop();
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
}
