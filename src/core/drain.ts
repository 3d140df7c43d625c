/**
 * The drain, run after the sequence or the machine moved: applies what became legal, discards
 * what became past, until nothing moves. The buffer keeps sequenced entries first, by seq, then
 * unsequenced ones in arrival order (see entity.ts).
 */
import type { DecisionDraft } from './decision-draft.ts';
import { checkTypeAndPayload } from './event-checks.ts';
import { applyRejectionPolicy, atTurn, take } from './event-turn.ts';
import { describeValue } from './make-outcome.ts';
import {
  isStaleTime,
  isTimed,
  markOf,
  staleTimeDetail,
  unsequencedInTurnOrder,
  type TimeMark,
} from './time-order.ts';

/** After the sequence moved: apply what became legal, discard what became past, until nothing moves. */
export function drain(draft: DecisionDraft): void {
  for (;;) {
    // Most events arrive in order: nothing waits, so there is nothing to look through.
    if (draft.parked || draft.held || draft.currentBuffer().length === 0) return;
    discardStaleSequenced(draft);
    // The buffer keeps sequenced entries first, by seq: with the stale ones gone, the next
    // expected seq can only be at the head.
    const next = draft.currentBuffer()[0];
    if (next?.event.seq === draft.lastSeq + 1) {
      draft.removeFromBuffer(next);
      const invalid = next.unchecked ? checkTypeAndPayload(draft.context.aggregate, next.event) : undefined;
      if (invalid) {
        const park = draft.context.aggregate.onRejected === 'park';
        draft.reject(next.event, invalid.reason, true, invalid.detail, park);
        if (!applyRejectionPolicy(draft, next.event, invalid.reason, invalid.detail, true)) return;
      } else if (next.rejection) {
        const { reason, detail } = next.rejection;
        if (!applyRejectionPolicy(draft, next.event, reason, detail, true)) return;
      } else if (!atTurn(draft, next.event, true)) {
        if (draft.parked) return;
      }
      continue;
    }
    if (!drainUnsequencedOnce(draft)) return;
  }
}

/** Sequenced entries at or below lastSeq sit at the head of the buffer; each leaves as stale. */
function discardStaleSequenced(draft: DecisionDraft): void {
  for (let head = draft.currentBuffer()[0]; head?.event.seq !== undefined; head = draft.currentBuffer()[0]) {
    const seq = head.event.seq;
    if (seq > draft.lastSeq) return;
    draft.removeFromBuffer(head);
    if (head.rejection) continue;
    draft.settle(
      head.event,
      'discarded',
      'stale-seq',
      true,
      `seq ${seq} was passed while it waited (last applied ${draft.lastSeq})`,
    );
  }
}

/**
 * Handles the first unsequenced entry whose turn has come; returns true when the machine moved.
 * Untimed entries come in arrival order, timed ones in event-time order, and the first timed
 * entry still within its hold stops the walk: everything later in event time waits behind it,
 * which is what makes the hold reproduce in-order processing.
 */
function drainUnsequencedOnce(draft: DecisionDraft): boolean {
  const buffer = draft.currentBuffer();
  // Unsequenced entries sit behind the sequenced ones: none at the tail means none at all.
  if (buffer[buffer.length - 1]?.event.seq !== undefined) return false;
  const { cursor, aggregate, now } = draft.context;
  for (const entry of unsequencedInTurnOrder(buffer, now, aggregate.holdMs)) {
    const { event } = entry;
    const invalid = entry.unchecked ? checkTypeAndPayload(aggregate, event) : undefined;
    if (invalid) {
      draft.removeFromBuffer(entry);
      draft.reject(event, invalid.reason, true, invalid.detail);
      continue;
    }
    const value = cursor.value();
    if (isTimed(event) && isStaleTime(markOf(event), draft.lastTime)) {
      draft.removeFromBuffer(entry);
      draft.settle(
        event,
        'discarded',
        'stale-time',
        true,
        staleTimeDetail(event, draft.lastTime as TimeMark),
      );
      continue;
    }
    if (cursor.done()) {
      draft.removeFromBuffer(entry);
      draft.settle(
        event,
        'discarded',
        'entity-final',
        true,
        `the entity reached final state ${describeValue(value)}`,
      );
      continue;
    }
    if (aggregate.topology.acceptsNow(value, event.type)) {
      draft.removeFromBuffer(entry);
      const moved = take(draft, event, 'drained', true);
      if (moved !== undefined) return moved;
      draft.reject(
        event,
        'guard-refused',
        true,
        `a guard refused ${event.type} in state ${describeValue(value)}`,
      );
      continue;
    }
    if (!aggregate.topology.acceptsLater(value, event.type)) {
      draft.removeFromBuffer(entry);
      draft.settle(
        event,
        'discarded',
        'unreachable-type',
        true,
        `${event.type} can no longer happen after ${describeValue(value)}`,
      );
    }
    // Otherwise a reachable state accepts it: it waits (future-type) for that state or a later event.
  }
  return false;
}
