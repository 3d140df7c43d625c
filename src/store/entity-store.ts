/**
 * The EntityStore port: where entity state lives between decisions. Every decision is written by
 * ONE `commit` that lands whole or not at all, fenced by the entity's version so two processes can
 * never both apply a transition to the same entity.
 */
import type { EntityState } from '../core/entity.ts';
import type { PersistedSnapshot } from '../core/snapshot.ts';
import type { HistoryEntry } from '../core/history.ts';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import type { EffectStore } from './effect-queue.ts';

export interface EntityRef {
  aggregate: string;
  key: string;
}

export type { PersistedSnapshot } from '../core/snapshot.ts';

/** What `load` returns: the rules' state plus the machine snapshot and the fencing version. */
export interface StoredEntity extends EntityState {
  version: number;
  snapshot: PersistedSnapshot | undefined;
  /** The machine version the snapshot was committed under; undefined for entities stored before versions. */
  machineVersion?: string | undefined;
  /** Set when the stored snapshot's bytes could not be read (`snapshot` is then undefined). */
  snapshotError?: string | undefined;
  /** Set when other stored fields could not be read (they are left out, the entity is held). */
  corrupt?: string | undefined;
}

/** How many stored entities carry one machine version of one aggregate, and since when. */
export interface StoredVersion {
  aggregate: string;
  version: string;
  /** Entities whose snapshot is stamped with it (entities expired by a TTL may still be counted). */
  entities: number;
  /** When an entity was first committed under it (ms, the committing process's clock). */
  firstSeenAt: number;
}

/** What `scan` hands over for each stored entity: the entity, or why it could not be read. */
export type ScannedEntity =
  | { key: string; stored: StoredEntity; error?: undefined }
  | { key: string; stored?: undefined; error: Error };

/** One decision's writes. Stores may use the full `entity` or the deltas beside it. */
export interface EntityCommit {
  /** The version the decision was made on; the commit fails when the stored version differs. */
  expectedVersion: number;
  entity: EntityState;
  /**
   * Present when the machine moved: returns the new persisted snapshot. A function because
   * serialising costs more than the rest of a decision; the memory store defers it until a load.
   * It captures the snapshot at commit time, so calling it later gives the same answer.
   */
  snapshot: (() => PersistedSnapshot) | undefined;
  bufferAdded: EntityState['buffer'];
  bufferRemoved: readonly string[];
  seenAdded: readonly string[];
  parkedChanged: boolean;
  /** The held mark (`entity.held`) was set, replaced or cleared. */
  heldChanged?: boolean;
  /**
   * The machine version the entity's snapshot is under after this commit: stamped with it, and
   * counted per version. "" or absent leaves the stored stamp as it is (a held entity keeps its own).
   */
  machineVersion?: string;
  /** When the decision was made (ms): the first-seen time of a version not stored before. */
  committedAt?: number;
  /** Appended to the outbox (when the store keeps one), in order. */
  applied: readonly AppliedTransition[];
  deadLetters: readonly DeadLetter[];
  history: readonly HistoryEntry[];
  /** For the stalled index: when the oldest buffered event arrived, or undefined with an empty buffer. */
  oldestBufferedAt: number | undefined;
  /** The entity reached a final state (stores may expire it). */
  final: boolean;
}

export type CommitResult = { ok: true; version: number } | { ok: false; reason: 'version-conflict' };

/** An outbox or dead-letter row with the store's id for acknowledging it. */
export interface QueuedItem<TValue> {
  id: string;
  value: TValue;
}

export interface StalledEntity extends EntityRef {
  oldestBufferedAt: number;
}

/**
 * The synchronous core of an in-process store. When a store offers it, the gatekeeper decides an
 * idle entity's event without a single await — the embedded store's fast path.
 */
export interface SyncEntityStore {
  /**
   * The entity's record, which the gatekeeper keeps while the entity is resident, so a commit
   * goes straight to it instead of looking the entity up again. Never-committed entities get an
   * empty record (`load` answers undefined until the first commit).
   */
  open(ref: EntityRef): SyncEntityRecord;
  /** What `versions()` answers, synchronously. */
  versionsNow(): StoredVersion[];
}

/** One entity's state in an in-process store; same semantics as the port's `load` and `commit`. */
export interface SyncEntityRecord {
  load(): StoredEntity | undefined;
  commit(commit: EntityCommit): CommitResult;
}

/** The port. All methods reject with StoreUnavailableError when the backing service is unreachable. */
export interface EntityStore {
  /** Present only on stores that live in the process and never wait. */
  readonly sync?: SyncEntityStore;
  /**
   * The effects queue, failure log and holding lists (effect-queue.ts), on stores that have them;
   * `effects.enabled` says whether commits append to the queue.
   */
  readonly effects?: EffectStore;
  /** Loads an entity; undefined when it was never committed. */
  load(ref: EntityRef): Promise<StoredEntity | undefined>;
  commit(ref: EntityRef, commit: EntityCommit): Promise<CommitResult>;
  /** Keeps a rejection that belongs to no entity (an invalid envelope, an unknown aggregate). */
  recordDeadLetter(letter: DeadLetter): Promise<void>;
  /** Newest last. */
  history(ref: EntityRef): Promise<HistoryEntry[]>;
  /** Entities whose oldest buffered event arrived before `before` (ms since epoch), oldest first. */
  stalled(before: number, limit: number): Promise<StalledEntity[]>;
  /**
   * Entities that need an operator: stopped on a parked event or held (see core/attention.ts).
   * One index for both; `load` tells which.
   */
  parked(limit: number): Promise<EntityRef[]>;
  /** Which machine versions the store's entities were committed under, per aggregate. Read-only. */
  versions(): Promise<StoredVersion[]>;
  /**
   * Visits every stored entity of `aggregate`, in no particular order (read-only: the dry run of
   * a machine change). An entity whose stored fields cannot be read is handed over with its error.
   */
  scan(aggregate: string, visit: (entity: ScannedEntity) => void): Promise<void>;
  /** Oldest first; items stay until acknowledged. */
  readOutbox(limit: number): Promise<QueuedItem<AppliedTransition>[]>;
  ackOutbox(ids: readonly string[]): Promise<void>;
  readDeadLetters(limit: number): Promise<QueuedItem<DeadLetter>[]>;
  ackDeadLetters(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
