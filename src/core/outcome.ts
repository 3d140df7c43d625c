/**
 * Outcomes: every event ends in exactly one of four, each with a machine-readable reason.
 */
import type { EventEnvelope } from './envelope.ts';

/** A JSON-safe XState state value ("paid", or { shipping: "packed" } for nested machines). */
export type StateValue = string | { [region: string]: StateValue };

export const OUTCOMES = ['applied', 'buffered', 'discarded', 'rejected'] as const;
export type OutcomeKind = (typeof OUTCOMES)[number];

export const REASONS = {
  applied: ['legal', 'drained', 'operator-retry'],
  buffered: ['seq-gap', 'future-type', 'entity-parked', 'time-hold', 'entity-held'],
  discarded: [
    'duplicate-id',
    'stale-seq',
    'stale-time',
    'duplicate-seq',
    'unreachable-type',
    'entity-final',
    'gap-skipped',
  ],
  rejected: [
    'invalid-envelope',
    'input-too-large',
    'unknown-aggregate',
    'unknown-event-type',
    'invalid-payload',
    'illegal-at-seq',
    'illegal-in-state',
    'guard-refused',
    'buffer-full',
    'stalled',
    'machine-error',
    'key-mismatch',
    'future-time',
    'operator-skipped',
    'effect-failed',
  ],
} as const satisfies Record<OutcomeKind, readonly string[]>;

export type ReasonOf<TKind extends OutcomeKind> = (typeof REASONS)[TKind][number];
export type OutcomeReason = ReasonOf<OutcomeKind>;

/** One line of the gatekeeper's answer: what happened to one event, and the entity's state after it. */
export interface Outcome {
  outcome: OutcomeKind;
  reason: OutcomeReason;
  /** Human-readable explanation (a zod message, "seq 3 is next but … is not legal in state …"). */
  detail?: string | undefined;
  id: string | null;
  aggregate: string | null;
  key: string | null;
  seq: number | null;
  type: string | null;
  /** State value of the entity after this outcome; null when no entity could be named. */
  state: StateValue | null;
  /** For `applied`: the state value before the transition. */
  from?: StateValue | undefined;
  /** True when the drain reached this event in the buffer rather than it arriving now. */
  fromBuffer: boolean;
  /** True when this rejection parked the entity (policy `park`). */
  parked?: boolean | undefined;
  /** The event itself, when it parsed as an envelope. */
  event?: EventEnvelope;
}

/** An applied transition as published downstream (the outbox row). */
export interface AppliedTransition {
  id: string;
  aggregate: string;
  key: string;
  /** The entity's last applied seq after this transition (0 for entities that never used seq). */
  seq: number;
  type: string;
  payload: Record<string, unknown> | undefined;
  from: StateValue;
  state: StateValue;
  time: string | undefined;
}

/**
 * Where an input came from in its transport (for Kafka: topic, partition, offset), as the caller
 * handed it in. The gatekeeper does not read it; it keeps it with a buffered or parked event and
 * puts it on the event's dead letter, so whichever process publishes the letter can name it.
 */
export type InputSource = Readonly<Record<string, string | number>>;

/** A rejected event kept for the dead-letter output. */
export interface DeadLetter {
  reason: OutcomeReason;
  detail: string;
  at: number;
  /** The parsed event, or the raw input when it was not a valid envelope. */
  event: EventEnvelope | undefined;
  raw?: unknown;
  aggregate: string | null;
  key: string | null;
  /** Where the rejected input came from, when the caller said (see InputSource). */
  source?: InputSource;
}

/**
 * How an outcome changes the number of events waiting in its entity's buffer: +1 when an arriving
 * event starts waiting, -1 when a waiting one is decided (drained, discarded or rejected), else 0.
 */
export function bufferChange(outcome: Outcome): -1 | 0 | 1 {
  if (outcome.outcome === 'buffered') return outcome.fromBuffer ? 0 : 1;
  return outcome.fromBuffer ? -1 : 0;
}

export function isOutcomeKind(value: string): value is OutcomeKind {
  return (OUTCOMES as readonly string[]).includes(value);
}
