/**
 * An event whose turn has come (its seq is lastSeq + 1, it is unsequenced and legal now, or an
 * operator retries it): applied by the machine, or rejected under the aggregate's policy.
 */
import { withSource, type DecisionDraft } from './decision-draft.ts';
import { toMachineEvent, type EventEnvelope } from './envelope.ts';
import { describeValue, makeOutcome } from './make-outcome.ts';
import type { ReasonOf } from './outcome.ts';
import { lastTimeAfter } from './time-order.ts';

/**
 * The event is next (its seq is lastSeq + 1, or an operator retries it). Applies it, or rejects it
 * under the aggregate's policy. Returns true when the sequence moved (so a drain is due).
 */
export function atTurn(
  draft: DecisionDraft,
  event: EventEnvelope,
  fromBuffer: boolean,
  appliedReason?: ReasonOf<'applied'>,
): boolean {
  const { cursor, aggregate } = draft.context;
  if (!cursor.done()) {
    const moved = take(draft, event, appliedReason ?? (fromBuffer ? 'drained' : 'legal'), fromBuffer);
    if (moved !== undefined) return moved;
  }
  const value = cursor.value();
  const guardOnly = !cursor.done() && aggregate.topology.acceptsNow(value, event.type);
  const reason = guardOnly
    ? 'guard-refused'
    : event.seq !== undefined
      ? 'illegal-at-seq'
      : 'illegal-in-state';
  const where = cursor.done() ? `final state ${describeValue(value)}` : `state ${describeValue(value)}`;
  const detail = guardOnly
    ? `a guard refused ${event.type} in ${where}`
    : event.seq !== undefined
      ? `seq ${event.seq} is the next expected for ${aggregate.name}/${event.key}, but ${event.type} is not legal in ${where}`
      : `${event.type} is not legal in ${where}`;
  draft.reject(event, reason, fromBuffer, detail, aggregate.onRejected === 'park');
  return applyRejectionPolicy(draft, event, reason, detail, true);
}

/** `skip` moves the sequence past a rejected next event; `park` stops the entity on it. */
export function applyRejectionPolicy(
  draft: DecisionDraft,
  event: EventEnvelope,
  reason: ReasonOf<'rejected'>,
  detail: string,
  reported: boolean,
): boolean {
  if (draft.context.aggregate.onRejected === 'park') {
    draft.setParked(
      withSource({ event, reason, detail, parkedAt: draft.context.now }, draft.sourceOf(event)),
    );
    if (!reported) draft.markLastOutcomeParked();
    return false;
  }
  if (event.seq === undefined) return false;
  draft.lastSeq = Math.max(draft.lastSeq, event.seq);
  return true;
}

/**
 * Applies the event if the machine takes it now: undefined when it is not legal in this state
 * (nothing changed), else true when the sequence moved (so a drain is due).
 */
export function take(
  draft: DecisionDraft,
  event: EventEnvelope,
  reason: ReasonOf<'applied'>,
  fromBuffer: boolean,
): boolean | undefined {
  const { cursor } = draft.context;
  const from = cursor.value();
  const step = cursor.step(toMachineEvent(event));
  if (step === 'not-enabled') return undefined;
  if (step !== 'moved') {
    draft.reject(
      event,
      'machine-error',
      fromBuffer,
      `the machine threw while applying ${event.type}: ${step.error}`,
    );
    return applyRejectionPolicy(draft, event, 'machine-error', step.error, true);
  }
  draft.moved = true;
  if (event.seq !== undefined) draft.lastSeq = Math.max(draft.lastSeq, event.seq);
  else draft.lastTime = lastTimeAfter(draft.lastTime, event);
  const state = cursor.value();
  draft.applied.push({
    id: event.id,
    aggregate: event.aggregate,
    key: event.key,
    seq: draft.lastSeq,
    type: event.type,
    payload: event.payload,
    from,
    state,
    time: event.time,
  });
  draft.record(makeOutcome(event, 'applied', reason, state, fromBuffer, undefined, from));
  return true;
}
