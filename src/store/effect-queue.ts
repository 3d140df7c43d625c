/**
 * The effects part of the store port: the durable queue of applied transitions a transition
 * handler has yet to run (appended by the same atomic commit as the decision, so an effect exists
 * exactly when its transition is durable), the failure log, and each entity's holding list of
 * later effects that wait behind a failed one (the retry-ordering article's "hold the entity's
 * later work"). A runner works one shard at a time (Redis: one shard per Kafka input partition;
 * the memory store has one); every write of a fenced store is checked against the shard's claim,
 * so a member that lost a partition can neither acknowledge, fail nor release its effects.
 */
import type { AppliedTransition } from '../core/outcome.ts';
import type { EntityRef } from './entity-store.ts';

/** One effect waiting to run. */
export interface EffectRow {
  /** The store's id of the row where it waits now (the queue's, or its place in a holding list). */
  id: string;
  transition: AppliedTransition;
  /** Its idempotency key (core/transition-identity.ts). */
  identity: string;
  /** Failed attempts recorded for it so far (durable where the store is). */
  failures: number;
}

/** A transition whose handler failed its last attempt, in the failure log. */
export interface StoredEffectFailure extends EntityRef {
  idempotencyKey: string;
  transition: AppliedTransition;
  /** The last attempt's error, as text. */
  error: string;
  attempts: number;
  failedAt: number;
  /** The entity's later effects waiting in its holding list. */
  heldCount: number;
}

/** The entities of one shard that do not run their effects straight from the queue. */
export interface BlockedEntities {
  /** In the failure log: waiting for an operator's retry or skip. */
  failed: EntityRef[];
  /** Holding later effects (and not failed): to be released in order. */
  holding: EntityRef[];
}

/** What a runner does with one shard's effects. */
export interface EffectShard {
  readonly shard: number;
  /** Queue rows after the row `after` (exclusive; undefined: from the oldest), oldest first. */
  read(after: string | undefined, limit: number): Promise<EffectRow[]>;
  /** The rows ran: removed from the queue with their attempt counts. */
  ack(rows: readonly EffectRow[]): Promise<void>;
  /** Moves queue rows of one entity to the end of its holding list, in the order given. */
  hold(ref: EntityRef, rows: readonly EffectRow[]): Promise<void>;
  /** The entity's first held effect, if any. */
  firstHeld(ref: EntityRef): Promise<EffectRow | undefined>;
  /** The entity's first held effect ran (or was dead-lettered): removed; answers how many are left. */
  releaseFirst(ref: EntityRef, row: EffectRow): Promise<number>;
  /** One more failed attempt of the row: answers the durable count of failures. */
  countFailure(row: EffectRow): Promise<number>;
  /**
   * The row goes to the failure log with its error, taken from where it waits (the queue, or the
   * head of the entity's holding list); the entity's later effects keep going to its holding list.
   */
  fail(ref: EntityRef, row: EffectRow, from: 'queue' | 'held', failure: EffectFailureNote): Promise<void>;
  blocked(): Promise<BlockedEntities>;
  /** Rows waiting in the queue (read per scrape for the backlog gauge). */
  backlog(): Promise<number>;
  /**
   * On a fenced store: true while this process still holds the shard's claim. Checked before
   * handlers run, so a member that was paused while its partition moved on starts none of them.
   */
  stillOwned?(): Promise<boolean>;
}

export interface EffectFailureNote {
  error: string;
  attempts: number;
  failedAt: number;
}

/** The store's effects: per-shard queues for runners, the failure log and the operator verbs. */
export interface EffectStore {
  /** Whether commits append to the effects queue (the store was created with `effects: true`). */
  readonly enabled: boolean;
  /** Every shard number. */
  shards(): number[];
  shardQueue(shard: number): EffectShard;
  shardOf(ref: EntityRef): number;
  /** The failure log, oldest failure first. */
  failures(limit: number): Promise<StoredEffectFailure[]>;
  failure(ref: EntityRef): Promise<StoredEffectFailure | undefined>;
  /** Effects waiting in the entity's holding list. */
  heldCount(ref: EntityRef): Promise<number>;
  /**
   * Operator: the failed effect goes back to the head of the entity's holding list (its attempt
   * count kept), so the runner runs it again and then the held ones in order. False when none failed.
   */
  retry(ref: EntityRef): Promise<boolean>;
  /** Operator: the failed effect is recorded as skipped and dropped; the held ones are released. */
  skip(ref: EntityRef): Promise<StoredEffectFailure | undefined>;
}
