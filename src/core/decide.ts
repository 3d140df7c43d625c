/**
 * The decision rules for an arriving event: given one entity, its machine cursor and one event,
 * decide applied / buffered / discarded / rejected, then drain the buffer. Pure apart from moving
 * the cursor, which the caller throws away when the decision is not committed.
 *
 * The rest of the rules live beside this file: an event's turn (event-turn.ts), the drain
 * (drain.ts), the decisions with no event arriving (operator-decisions.ts, sweeper-decisions.ts),
 * and the draft every rule records into (decision-draft.ts).
 */
import { DecisionDraft, withSource } from './decision-draft.ts';
import type { Decision, DecisionContext } from './decision.ts';
import { drain } from './drain.ts';
import type { BufferedEvent, EntityState } from './entity.ts';
import type { EventEnvelope } from './envelope.ts';
import { checkTypeAndPayload } from './event-checks.ts';
import { applyRejectionPolicy, atTurn, take } from './event-turn.ts';
import { describeValue } from './make-outcome.ts';
import type { InputSource, ReasonOf } from './outcome.ts';
import {
  futureTimeDetail,
  isStaleTime,
  isTimed,
  markOf,
  staleTimeDetail,
  type TimedEvent,
  type TimeMark,
} from './time-order.ts';

/**
 * Decides one incoming event (already a valid envelope of this aggregate). `source` says where it
 * came from; it is kept with the event if it waits and put on its dead letter if it is rejected.
 */
export function decide(
  context: DecisionContext,
  entity: EntityState,
  event: EventEnvelope,
  source?: InputSource,
): Decision {
  const draft = new DecisionDraft(context, entity);
  arrive(draft, event, source);
  return draft.finish();
}

function arrive(draft: DecisionDraft, event: EventEnvelope, source: InputSource | undefined): void {
  draft.arriving = event;
  draft.arrivalSource = source;
  const duplicate = duplicateReason(draft, event);
  if (duplicate) return draft.settle(event, 'discarded', duplicate.reason, false, duplicate.detail);

  // A held entity's events are checked when its hold ends, by the machine version that decides
  // them (in a rolling deploy this process may not know a newer version's event types yet).
  if (draft.held) return holdInBuffer(draft, event, 'entity-held', draft.held.detail, true);

  const { aggregate } = draft.context;
  const invalid = checkTypeAndPayload(aggregate, event);
  if (invalid) return rejectOnArrival(draft, event, invalid.reason, invalid.detail);
  const timed = isTimed(event);
  if (timed) {
    const ahead = futureTimeDetail(event, draft.context.now, aggregate.maxFutureMs);
    if (ahead !== undefined) return draft.reject(event, 'future-time', false, ahead);
  }

  if (draft.parked) return holdInBuffer(draft, event, 'entity-parked');
  if (event.seq !== undefined) {
    if (event.seq > draft.lastSeq + 1) return holdInBuffer(draft, event, 'seq-gap');
    if (atTurn(draft, event, false)) drain(draft);
    return;
  }
  if (timed) return arriveTimed(draft, event);
  arriveUnsequenced(draft, event);
}

function duplicateReason(
  draft: DecisionDraft,
  event: EventEnvelope,
): { reason: ReasonOf<'discarded'>; detail: string } | undefined {
  // Plain loops: this runs for every event, and closures per call showed in profiles.
  const buffer = draft.currentBuffer();
  let waitingSameSeq = false;
  for (const entry of buffer) {
    if (entry.event.id === event.id) return duplicateId(event);
    if (event.seq !== undefined && entry.event.seq === event.seq) waitingSameSeq = true;
  }
  if (draft.entity.seenIds.includes(event.id) || draft.parked?.event.id === event.id)
    return duplicateId(event);
  if (event.seq === undefined) return undefined;
  if (event.seq <= draft.lastSeq) {
    return {
      reason: 'stale-seq',
      detail: `seq ${event.seq} is not after the last applied seq ${draft.lastSeq} (a duplicate or a late event)`,
    };
  }
  if (waitingSameSeq || draft.parked?.event.seq === event.seq) {
    return { reason: 'duplicate-seq', detail: `another event with seq ${event.seq} is already waiting` };
  }
  return undefined;
}

/** A rejection on arrival of a sequenced event still occupies its seq, so the sequence can move past it. */
function rejectOnArrival(
  draft: DecisionDraft,
  event: EventEnvelope,
  reason: ReasonOf<'rejected'>,
  detail: string,
): void {
  draft.reject(event, reason, false, detail);
  if (event.seq === undefined) return;
  if (event.seq === draft.lastSeq + 1 && !draft.parked && !draft.held) {
    applyRejectionPolicy(draft, event, reason, detail, false);
    return;
  }
  if (draft.currentBuffer().length < draft.context.aggregate.maxBuffered) {
    draft.addToBuffer(
      withSource(
        { event, receivedAt: draft.context.now, rejection: { reason, detail } },
        draft.arrivalSource,
      ),
    );
  }
}

function arriveUnsequenced(draft: DecisionDraft, event: EventEnvelope): void {
  const { cursor, aggregate } = draft.context;
  if (cursor.done()) {
    return draft.settle(
      event,
      'discarded',
      'entity-final',
      false,
      `the entity is in final state ${describeValue(cursor.value())}`,
    );
  }
  const moved = take(draft, event, 'legal', false);
  if (moved !== undefined) {
    if (moved) drain(draft);
    return;
  }
  const value = cursor.value();
  if (aggregate.topology.acceptsNow(value, event.type)) {
    return draft.reject(
      event,
      'guard-refused',
      false,
      `a guard refused ${event.type} in state ${describeValue(value)}`,
    );
  }
  if (aggregate.topology.acceptsLater(value, event.type)) return holdInBuffer(draft, event, 'future-type');
  draft.settle(
    event,
    'discarded',
    'unreachable-type',
    false,
    `${event.type} is accepted only by states no longer reachable from ${describeValue(value)}`,
  );
}

/**
 * Time mode: past is what is not after the last applied timed event. Without a hold the rest is
 * decided like any unsequenced event (last writer wins); with one it waits in the buffer and
 * the drain releases, in event-time order, whatever waited longer than the hold.
 */
function arriveTimed(draft: DecisionDraft, event: TimedEvent): void {
  const { aggregate } = draft.context;
  if (isStaleTime(markOf(event), draft.lastTime)) {
    const last = draft.lastTime as TimeMark;
    draft.settle(event, 'discarded', 'stale-time', false, staleTimeDetail(event, last));
  } else if (aggregate.holdMs === 0 || draft.context.cursor.done()) {
    return arriveUnsequenced(draft, event);
  } else {
    holdInBuffer(draft, event, 'time-hold');
  }
  if (aggregate.holdMs > 0) drain(draft);
}

/** The event waits in the buffer (with `reason`), or is rejected when the buffer is full. */
function holdInBuffer(
  draft: DecisionDraft,
  event: EventEnvelope,
  reason: ReasonOf<'buffered'>,
  detail?: string,
  unchecked = false,
): void {
  const { maxBuffered, name } = draft.context.aggregate;
  // A held entity waits for an operator, not for its producer: its events are never rejected
  // for the buffer's size (the attention list and metrics show it instead).
  if (!unchecked && draft.currentBuffer().length >= maxBuffered) {
    return draft.reject(
      event,
      'buffer-full',
      false,
      `${name}/${event.key} already holds ${maxBuffered} buffered events`,
    );
  }
  const entry: BufferedEvent = unchecked
    ? { event, receivedAt: draft.context.now, unchecked: true }
    : { event, receivedAt: draft.context.now };
  draft.addToBuffer(withSource(entry, draft.arrivalSource));
  draft.settle(event, 'buffered', reason, false, detail);
}

function duplicateId(event: EventEnvelope): { reason: 'duplicate-id'; detail: string } {
  return { reason: 'duplicate-id', detail: `event id ${event.id} was already handled for this entity` };
}
