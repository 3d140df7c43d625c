/**
 * Decisions the sweeper makes on wall-clock time, with no event arriving: releasing held timed
 * events whose hold is over, and the stall policy for an entity that waited too long.
 */
import { DecisionDraft } from './decision-draft.ts';
import type { Decision, DecisionContext } from './decision.ts';
import { drain } from './drain.ts';
import type { EntityState } from './entity.ts';

/** Time mode's release, run by the sweeper: applies held events whose hold is over, in event-time order. */
export function decideRelease(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  drain(draft);
  return draft.finish();
}

/** The stall policy, run by the sweeper for an entity whose oldest buffered event is too old. */
export function decideStall(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  stall(draft);
  return draft.finish();
}

function stall(draft: DecisionDraft): void {
  const { aggregate, now } = draft.context;
  const { onStall } = aggregate;
  if (onStall === 'keep' || draft.parked || draft.held) return;
  if (onStall === 'dead-letter') {
    for (const entry of [...draft.currentBuffer()]) {
      draft.removeFromBuffer(entry);
      if (entry.rejection) continue; // already reported when it arrived
      const age = now - entry.receivedAt;
      draft.reject(
        entry.event,
        'stalled',
        true,
        `waited ${age} ms in the buffer, longer than ${aggregate.stallAfterMs} ms`,
      );
    }
    return;
  }
  const firstSequenced = draft.currentBuffer().find((entry) => entry.event.seq !== undefined);
  if (firstSequenced?.event.seq !== undefined && firstSequenced.event.seq > draft.lastSeq + 1) {
    draft.lastSeq = firstSequenced.event.seq - 1;
    drain(draft);
  }
}
