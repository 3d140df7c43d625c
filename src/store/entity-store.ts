/**
 * The EntityStore port: where entity state lives between decisions. Every decision is written by
 * ONE `commit` that lands whole or not at all, fenced by the entity's version so two processes can
 * never both apply a transition to the same entity.
 */
import type { EntityState } from '../core/entity.ts';
import type { HistoryEntry } from '../core/history.ts';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';

export interface EntityRef {
  aggregate: string;
  key: string;
}

/** A persisted XState snapshot (`actor.getPersistedSnapshot()`), JSON-safe. */
export type PersistedSnapshot = Record<string, unknown>;

/** What `load` returns: the rules' state plus the machine snapshot and the fencing version. */
export interface StoredEntity extends EntityState {
  version: number;
  snapshot: PersistedSnapshot | undefined;
}

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
  /** Loads an entity; undefined when it was never committed. */
  load(ref: EntityRef): Promise<StoredEntity | undefined>;
  commit(ref: EntityRef, commit: EntityCommit): Promise<CommitResult>;
  /** Keeps a rejection that belongs to no entity (an invalid envelope, an unknown aggregate). */
  recordDeadLetter(letter: DeadLetter): Promise<void>;
  /** Newest last. */
  history(ref: EntityRef): Promise<HistoryEntry[]>;
  /** Entities whose oldest buffered event arrived before `before` (ms since epoch), oldest first. */
  stalled(before: number, limit: number): Promise<StalledEntity[]>;
  /** Entities stopped on a parked event. */
  parked(limit: number): Promise<EntityRef[]>;
  /** Oldest first; items stay until acknowledged. */
  readOutbox(limit: number): Promise<QueuedItem<AppliedTransition>[]>;
  ackOutbox(ids: readonly string[]): Promise<void>;
  readDeadLetters(limit: number): Promise<QueuedItem<DeadLetter>[]>;
  ackDeadLetters(ids: readonly string[]): Promise<void>;
  close(): Promise<void>;
}
