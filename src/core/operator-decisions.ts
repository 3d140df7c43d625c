/**
 * Decisions with no event arriving, asked for by an operator or by the entity's lifecycle: retry
 * or skip a parked event, skip a held entity's events, resume an entity whose hold has ended.
 */
import { DecisionDraft } from './decision-draft.ts';
import type { Decision, DecisionContext } from './decision.ts';
import { drain } from './drain.ts';
import type { EntityState } from './entity.ts';
import { atTurn } from './event-turn.ts';

/** Operator `retry`: try the parked event again (the machine or its context may have changed). */
export function decideRetry(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  const parked = draft.parked;
  if (parked) {
    draft.setParked(undefined);
    if (atTurn(draft, parked.event, true, 'operator-retry')) drain(draft);
  }
  return draft.finish();
}

/** Operator `skip`: move past the parked event and drain. */
export function decideSkip(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  const parked = draft.parked;
  if (parked) {
    draft.setParked(undefined);
    if (parked.event.seq !== undefined) draft.lastSeq = Math.max(draft.lastSeq, parked.event.seq);
    drain(draft);
  }
  return draft.finish();
}

/**
 * Operator `skip` on a held entity: every buffered event is rejected as `operator-skipped` (so
 * each is reported on the dead-letter output, never silently dropped); the entity stays held.
 */
export function decideSkipHeld(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  for (const entry of [...draft.currentBuffer()]) {
    draft.removeFromBuffer(entry);
    if (entry.rejection) continue; // already reported when it arrived
    draft.reject(
      entry.event,
      'operator-skipped',
      true,
      `an operator skipped the events held for ${context.aggregate.name}/${entry.event.key}`,
    );
  }
  return draft.finish();
}

/**
 * Ends an entity's hold (after a migration, a compatible restore or an operator reset) and drains
 * what waited. The snapshot is always persisted: it is the one under the current machine version.
 * `lastSeq` replaces the entity's (an operator reset that also resets the sequence).
 */
export function decideResume(
  context: DecisionContext,
  entity: EntityState,
  options: { lastSeq?: number } = {},
): Decision {
  const draft = new DecisionDraft({ ...context, hold: undefined }, entity);
  draft.held = undefined;
  if (options.lastSeq !== undefined) draft.lastSeq = options.lastSeq;
  draft.moved = true;
  drain(draft);
  return draft.finish();
}
