/**
 * The per-entity bookkeeping the decision rules read and write, independent of any store.
 */
import type { HeldMark } from './attention.ts';
import type { EventEnvelope } from './envelope.ts';
import type { InputSource, OutcomeReason, ReasonOf, StateValue } from './outcome.ts';
import type { TimeMark } from './time-order.ts';

/** An event held until its turn. `rejection` marks a seq placeholder already rejected on arrival. */
export interface BufferedEvent {
  event: EventEnvelope;
  receivedAt: number;
  rejection?: { reason: ReasonOf<'rejected'>; detail: string };
  /** Where the event came from, for its dead letter should it be rejected later. */
  source?: InputSource;
  /** Buffered while the entity was held, before its type and payload were checked: checked on drain. */
  unchecked?: true;
}

/** The event an entity is stopped at under the `park` policy, until an operator retries or skips it. */
export interface ParkedEvent {
  event: EventEnvelope;
  reason: OutcomeReason;
  detail: string;
  parkedAt: number;
  source?: InputSource;
}

/** Everything the rules need besides the machine snapshot itself. */
export interface EntityState {
  /** Highest seq applied or skipped; 0 before the first sequenced event. */
  lastSeq: number;
  /** Sequenced events sorted by seq, then unsequenced ones by arrival (timed ones are sorted when read). */
  buffer: readonly BufferedEvent[];
  /** Ids of the most recent unsequenced events decided for this entity (bounded window, oldest first). */
  seenIds: readonly string[];
  parked: ParkedEvent | undefined;
  /**
   * Set while the entity is held (its snapshot cannot be decided here, see attention.ts): like a
   * parked entity it keeps every later event buffered until the hold is released.
   */
  held?: HeldMark | undefined;
  /** Time mode: the last applied unsequenced timed event (time and id); undefined before the first. */
  lastTime: TimeMark | undefined;
}

export const EMPTY_ENTITY: EntityState = {
  lastSeq: 0,
  buffer: [],
  seenIds: [],
  parked: undefined,
  lastTime: undefined,
};

/**
 * The machine as the rules see it: where it is, whether an event is legal now, and a way to move.
 * The gatekeeper backs it with a live XState actor; tests may back it with `transition()`.
 */
export interface MachineCursor {
  value(): StateValue;
  done(): boolean;
  /** XState's `snapshot.can(event)`: a transition exists and its guards pass. */
  can(event: { type: string }): boolean;
  /**
   * Takes the event if it is legal now (what `can` answers) and says which: `moved`, or
   * `not-enabled` with the cursor unchanged. One call instead of `can` then a transition, which
   * would select the transitions and run the guards twice.
   */
  step(event: { type: string }): StepResult;
}

/** What `step` did; `{ error }` when the machine threw (the cursor is then unchanged). */
export type StepResult = 'moved' | 'not-enabled' | { error: string };

/** Time the oldest buffered event has waited, or undefined with an empty buffer. */
export function oldestBufferedAt(entity: EntityState): number | undefined {
  let oldest: number | undefined;
  for (const entry of entity.buffer)
    if (oldest === undefined || entry.receivedAt < oldest) oldest = entry.receivedAt;
  return oldest;
}

/**
 * Where a new entry goes in a buffer: sequenced entries stay sorted by seq ahead of unsequenced
 * ones, which keep arrival order (timed ones are sorted by event time when read).
 */
export function bufferPosition(buffer: readonly BufferedEvent[], seq: number | undefined): number {
  if (seq === undefined) return buffer.length;
  for (let index = 0; index < buffer.length; index += 1) {
    const other = (buffer[index] as BufferedEvent).event.seq;
    if (other === undefined || other > seq) return index;
  }
  return buffer.length;
}

/** The dedup window after `added` ids were decided: oldest first, at most `window` long. */
export function slideSeenWindow(
  seen: readonly string[],
  added: readonly string[],
  window: number,
): readonly string[] {
  if (added.length === 0) return seen;
  const merged = [...seen];
  for (const id of added) if (!merged.includes(id)) merged.push(id);
  const overflow = merged.length - window;
  return overflow > 0 ? merged.slice(overflow) : merged;
}
