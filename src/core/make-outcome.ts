/**
 * Outcome objects as the decision rules build them, and state values as their messages show them.
 */
import type { EventEnvelope } from './envelope.ts';
import type { Outcome, OutcomeKind, StateValue } from './outcome.ts';

/** Builds every outcome with one fixed shape: V8 keeps such objects fast, spreads made them slow. */
export function makeOutcome(
  event: EventEnvelope,
  outcome: OutcomeKind,
  reason: Outcome['reason'],
  state: StateValue | null,
  fromBuffer: boolean,
  detail: string | undefined,
  from?: StateValue,
): Outcome {
  return {
    outcome,
    reason,
    detail,
    id: event.id,
    aggregate: event.aggregate,
    key: event.key,
    seq: event.seq ?? null,
    type: event.type,
    state,
    from,
    fromBuffer,
    parked: undefined,
    event,
  };
}

/** `'paid'` or `{"shipping":"packed"}`, for messages. */
export function describeValue(value: StateValue): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}
