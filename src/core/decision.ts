/** What one decision takes and what it answers: the inputs fixed for its duration, and the result. */
import type { Aggregate } from './aggregate.ts';
import type { HeldMark } from './attention.ts';
import type { BufferedEvent, EntityState, MachineCursor } from './entity.ts';
import type { AppliedTransition, DeadLetter, Outcome } from './outcome.ts';

/** Inputs that do not change during one decision. */
export interface DecisionContext {
  aggregate: Aggregate;
  cursor: MachineCursor;
  now: number;
  /** How many recent event ids each entity remembers for deduplication. */
  dedupWindow: number;
  /**
   * Set when the entity is held (its snapshot cannot be decided by this process): the decision
   * buffers what arrives and records the mark when the entity does not carry it yet.
   */
  hold?: HeldMark | undefined;
}

/** Everything one decision changed, as the new state plus the deltas a store needs to write. */
export interface Decision {
  outcomes: Outcome[];
  entity: EntityState;
  applied: AppliedTransition[];
  deadLetters: DeadLetter[];
  bufferAdded: BufferedEvent[];
  /** Ids of events that left the buffer (applied, discarded or rejected from it). */
  bufferRemoved: string[];
  seenAdded: string[];
  parkedChanged: boolean;
  /** True when the entity's held mark was set, replaced or cleared. */
  heldChanged: boolean;
  /** True when the machine moved, so its snapshot must be persisted. */
  moved: boolean;
}
