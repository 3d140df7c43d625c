/**
 * The embedded store: entity state in process memory. The default, for tests, the demo and
 * single-process use where losing state on exit is acceptable. Commits are atomic because they
 * are synchronous; versions are still checked so two gatekeepers sharing one store stay fenced.
 */
import { DEFAULT_HISTORY_LIMIT, type HistoryEntry } from '../core/history.ts';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import type {
  CommitResult,
  EntityCommit,
  EntityRef,
  EntityStore,
  PersistedSnapshot,
  QueuedItem,
  ScannedEntity,
  StalledEntity,
  StoredEntity,
  StoredVersion,
  SyncEntityRecord,
  SyncEntityStore,
} from './entity-store.ts';
import { DeadLettersFullError } from './dead-letters-full-error.ts';
import { MemoryEffects } from './memory-effects.ts';

export interface MemoryStoreOptions {
  /** Keep applied transitions in an outbox for a relay to read and acknowledge (default false). */
  outbox?: boolean;
  /**
   * Keep applied transitions in the effects queue for a transition handler (default false): see
   * effect-queue.ts. Independent of `outbox`.
   */
  effects?: boolean;
  /**
   * Dead letters are read and acknowledged by a relay even without `outbox` (the Kafka runtime with
   * `topics.output: false`): bounded as with `outbox` (default: the value of `outbox`).
   */
  relayDeadLetters?: boolean;
  /** Decisions kept per entity for `history` (default 100). */
  historyLimit?: number;
  /**
   * Dead letters kept until acknowledged (default 10,000). With `outbox` (a relay publishes them)
   * none is dropped unpublished: at the bound, decisions that would add one are refused with
   * DeadLettersFullError until the relay acknowledges some. Without `outbox` the oldest go.
   */
  deadLetterLimit?: number;
  /** The same bound in bytes of the dead letters' JSON (default 64 MiB). */
  deadLetterByteLimit?: number;
}

/**
 * One entity's record. The gatekeeper holds it while the entity is resident (SyncEntityRecord),
 * so the hot path commits without a map lookup.
 */
class MemoryEntity implements SyncEntityRecord {
  version = 0;
  lastSeq = 0;
  buffer: StoredEntity['buffer'] = [];
  seenIds: StoredEntity['seenIds'] = [];
  parked: StoredEntity['parked'] = undefined;
  held: StoredEntity['held'] = undefined;
  machineVersion: string | undefined = undefined;
  lastTime: StoredEntity['lastTime'] = undefined;
  /** Serialised on load only: most entities are committed many times between loads. */
  snapshot: (() => PersistedSnapshot) | undefined = undefined;
  history: HistoryEntry[] = [];
  oldestBufferedAt: number | undefined = undefined;

  constructor(
    private readonly store: MemoryStore,
    readonly aggregate: string,
  ) {}

  load(): StoredEntity | undefined {
    if (this.version === 0) return undefined;
    const { lastSeq, buffer, seenIds, parked, held, lastTime, version, machineVersion } = this;
    return {
      lastSeq,
      buffer,
      seenIds,
      parked,
      held,
      lastTime,
      version,
      machineVersion,
      snapshot: this.snapshot?.(),
    };
  }

  commit(commit: EntityCommit): CommitResult {
    if (this.version !== commit.expectedVersion) return { ok: false, reason: 'version-conflict' };
    // Before anything changes: a refused decision writes nothing.
    if (commit.deadLetters.length > 0) this.store.admitDeadLetters();
    // Updated in place: the hot path of the embedded store, and nothing outside holds this object.
    this.version += 1;
    this.lastSeq = commit.entity.lastSeq;
    this.buffer = commit.entity.buffer;
    this.seenIds = commit.entity.seenIds;
    this.parked = commit.entity.parked;
    this.lastTime = commit.entity.lastTime;
    this.held = commit.entity.held;
    const stamp = commit.machineVersion;
    if (stamp && stamp !== this.machineVersion) {
      this.store.countVersion(this.aggregate, this.machineVersion, stamp, commit.committedAt ?? 0);
      this.machineVersion = stamp;
    }
    if (commit.snapshot !== undefined) this.snapshot = commit.snapshot;
    this.oldestBufferedAt = commit.oldestBufferedAt;
    for (const entry of commit.history) this.history.push(entry);
    this.store.afterCommit(this, commit);
    return { ok: true, version: this.version };
  }
}

/** Creates the embedded in-memory store. */
export function memoryStore(options: MemoryStoreOptions = {}): EntityStore {
  return new MemoryStore(options);
}

class MemoryStore implements EntityStore {
  private readonly entities = new Map<string, MemoryEntity>();
  private readonly outbox = new Queue<AppliedTransition>();
  private readonly deadLetterQueue = new Queue<DeadLetter>();
  private readonly historyLimit: number;
  private readonly deadLetterLimit: number;
  private readonly deadLetterByteLimit: number;
  private readonly keepOutbox: boolean;
  /** Dead letters are relayed: bounded by refusing, never trimmed. */
  private readonly relayDeadLetters: boolean;
  readonly effects: MemoryEffects;
  /** Entities per aggregate and machine version, keyed `aggregate NUL version`. */
  private readonly versionCounts = new Map<string, StoredVersion>();

  constructor(options: MemoryStoreOptions) {
    this.historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    this.deadLetterLimit = options.deadLetterLimit ?? 10_000;
    this.deadLetterByteLimit = options.deadLetterByteLimit ?? 64 * 1024 * 1024;
    this.keepOutbox = options.outbox ?? false;
    this.relayDeadLetters = options.relayDeadLetters ?? this.keepOutbox;
    this.effects = new MemoryEffects(options.effects ?? false);
  }

  readonly sync: SyncEntityStore = {
    open: (ref) => this.record(ref),
    versionsNow: () => this.versionRows(),
  };

  private versionRows(): StoredVersion[] {
    return [...this.versionCounts.values()].map((entry) => ({ ...entry }));
  }

  /** An entity's stamp moved from `from` (undefined: none yet) to `to`. */
  countVersion(aggregate: string, from: string | undefined, to: string, at: number): void {
    if (from !== undefined) {
      const old = this.versionCounts.get(`${aggregate}\u0000${from}`);
      if (old) old.entities -= 1;
    }
    const id = `${aggregate}\u0000${to}`;
    const entry = this.versionCounts.get(id);
    if (entry) entry.entities += 1;
    else this.versionCounts.set(id, { aggregate, version: to, entities: 1, firstSeenAt: at });
  }

  versions(): Promise<StoredVersion[]> {
    return Promise.resolve(this.versionRows());
  }

  scan(aggregate: string, visit: (entity: ScannedEntity) => void): Promise<void> {
    for (const [id, entity] of this.entities) {
      if (entity.aggregate !== aggregate) continue;
      const stored = entity.load();
      if (stored) visit({ key: parseEntityId(id).key, stored });
    }
    return Promise.resolve();
  }

  load(ref: EntityRef): Promise<StoredEntity | undefined> {
    return Promise.resolve(this.entities.get(entityId(ref))?.load());
  }

  commit(ref: EntityRef, commit: EntityCommit): Promise<CommitResult> {
    try {
      return Promise.resolve(this.record(ref).commit(commit));
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Throws DeadLettersFullError when dead letters are relayed (outbox) and the unpublished ones
   * reached the bound; one decision may pass it by its own letters, so none is refused forever.
   */
  admitDeadLetters(): void {
    if (!this.relayDeadLetters) return;
    const queue = this.deadLetterQueue;
    if (queue.size >= this.deadLetterLimit || queue.bytes >= this.deadLetterByteLimit)
      throw new DeadLettersFullError(
        'memory store',
        `${this.deadLetterLimit} entries or ${this.deadLetterByteLimit} bytes`,
      );
  }

  /** The store-wide part of a commit: history trimming, the outbox and dead letters. */
  afterCommit(entity: MemoryEntity, commit: EntityCommit): void {
    // Trimmed in batches so the per-commit cost stays constant.
    if (entity.history.length >= this.historyLimit * 2)
      entity.history.splice(0, entity.history.length - this.historyLimit);
    if (this.keepOutbox) for (const transition of commit.applied) this.outbox.push(transition);
    if (this.effects.enabled && commit.applied.length > 0) this.effects.append(commit.applied);
    for (const letter of commit.deadLetters) this.pushDeadLetter(letter);
  }

  private record(ref: EntityRef): MemoryEntity {
    const id = entityId(ref);
    let entity = this.entities.get(id);
    if (!entity) {
      entity = new MemoryEntity(this, ref.aggregate);
      this.entities.set(id, entity);
    }
    return entity;
  }

  recordDeadLetter(letter: DeadLetter): Promise<void> {
    try {
      this.admitDeadLetters();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    this.pushDeadLetter(letter);
    return Promise.resolve();
  }

  history(ref: EntityRef): Promise<HistoryEntry[]> {
    return Promise.resolve((this.entities.get(entityId(ref))?.history ?? []).slice(-this.historyLimit));
  }

  stalled(before: number, limit: number): Promise<StalledEntity[]> {
    const found: StalledEntity[] = [];
    for (const [id, entity] of this.entities) {
      if (entity.oldestBufferedAt !== undefined && entity.oldestBufferedAt < before) {
        found.push({ ...parseEntityId(id), oldestBufferedAt: entity.oldestBufferedAt });
      }
    }
    return Promise.resolve(found.sort((a, b) => a.oldestBufferedAt - b.oldestBufferedAt).slice(0, limit));
  }

  parked(limit: number): Promise<EntityRef[]> {
    const found: EntityRef[] = [];
    for (const [id, entity] of this.entities) {
      if (found.length >= limit) break;
      if (entity.parked || entity.held) found.push(parseEntityId(id));
    }
    return Promise.resolve(found);
  }

  readOutbox(limit: number): Promise<QueuedItem<AppliedTransition>[]> {
    return Promise.resolve(this.outbox.read(limit));
  }

  ackOutbox(ids: readonly string[]): Promise<void> {
    this.outbox.ack(ids);
    return Promise.resolve();
  }

  readDeadLetters(limit: number): Promise<QueuedItem<DeadLetter>[]> {
    return Promise.resolve(this.deadLetterQueue.read(limit));
  }

  ackDeadLetters(ids: readonly string[]): Promise<void> {
    this.deadLetterQueue.ack(ids);
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  private pushDeadLetter(letter: DeadLetter): void {
    this.deadLetterQueue.push(letter, jsonBytes(letter));
    // Relayed letters are never dropped (admitDeadLetters refuses instead); unread ones may go.
    if (!this.relayDeadLetters) this.deadLetterQueue.trimTo(this.deadLetterLimit, this.deadLetterByteLimit);
  }
}

/** A FIFO whose items carry increasing ids and a size, read without removal and removed on ack. */
class Queue<TValue> {
  private items = new Map<string, { value: TValue; bytes: number }>();
  private nextId = 1;
  /** Sum of the items' sizes. */
  bytes = 0;

  get size(): number {
    return this.items.size;
  }

  push(value: TValue, bytes = 0): void {
    this.items.set(String(this.nextId++), { value, bytes });
    this.bytes += bytes;
  }

  read(limit: number): QueuedItem<TValue>[] {
    const out: QueuedItem<TValue>[] = [];
    for (const [id, item] of this.items) {
      if (out.length >= limit) break;
      out.push({ id, value: item.value });
    }
    return out;
  }

  ack(ids: readonly string[]): void {
    for (const id of ids) this.remove(id);
  }

  /** Drops the oldest items until at most `max` items and `maxBytes` bytes are left (the newest stays). */
  trimTo(max: number, maxBytes: number): void {
    for (const id of this.items.keys()) {
      if (this.items.size <= 1 || (this.items.size <= max && this.bytes <= maxBytes)) return;
      this.remove(id);
    }
  }

  private remove(id: string): void {
    const item = this.items.get(id);
    if (item === undefined) return;
    this.items.delete(id);
    this.bytes -= item.bytes;
  }
}

/**
 * The size of a value's JSON (its length in UTF-16 code units: the bytes for ASCII, an estimate
 * otherwise), which is what publishing it costs; a value with no JSON counts 1 KiB.
 */
function jsonBytes(value: unknown): number {
  try {
    return JSON.stringify(value).length;
  } catch {
    return 1_024;
  }
}

/** NUL cannot appear in an aggregate name, so the pair round-trips for any key. */
function entityId(ref: EntityRef): string {
  return `${ref.aggregate}\u0000${ref.key}`;
}

function parseEntityId(id: string): EntityRef {
  const at = id.indexOf('\u0000');
  return { aggregate: id.slice(0, at), key: id.slice(at + 1) };
}
