/**
 * The decision for an event of an aggregate this process has no machine for, while the store
 * says another member has committed entities of it (members whose registries disagree): the
 * event is buffered on its entity and the entity held, so the member that knows the aggregate
 * drains it when it next loads the entity. Duplicates and past events are discarded as usual.
 */
import type { HeldMark } from './attention.ts';
import type { Decision } from './decision.ts';
import type { BufferedEvent, EntityState } from './entity.ts';
import type { EventEnvelope } from './envelope.ts';
import { makeOutcome } from './make-outcome.ts';
import type { InputSource, Outcome, ReasonOf } from './outcome.ts';

export function decideForeign(
  entity: EntityState,
  event: EventEnvelope,
  mark: HeldMark,
  now: number,
  source: InputSource | undefined,
): Decision {
  // No machine here, so no state to report: `state` is null on every outcome.
  const outcome = (
    kind: 'buffered' | 'discarded',
    reason: ReasonOf<'buffered'> | ReasonOf<'discarded'>,
    detail: string,
  ): Outcome => makeOutcome(event, kind, reason, null, false, detail);
  const discarded = (reason: ReasonOf<'discarded'>, detail: string): Decision => ({
    ...unchanged(entity),
    outcomes: [outcome('discarded', reason, detail)],
  });
  if (entity.buffer.some((entry) => entry.event.id === event.id) || entity.seenIds.includes(event.id))
    return discarded('duplicate-id', `event id ${event.id} was already handled for this entity`);
  if (event.seq !== undefined && event.seq <= entity.lastSeq)
    return discarded('stale-seq', `seq ${event.seq} is not after the last applied seq ${entity.lastSeq}`);
  if (event.seq !== undefined && entity.buffer.some((entry) => entry.event.seq === event.seq))
    return discarded('duplicate-seq', `another event with seq ${event.seq} is already waiting`);
  // Unchecked: this process has no schemas for the aggregate; the member that drains it checks.
  const entry: BufferedEvent =
    source === undefined
      ? { event, receivedAt: now, unchecked: true }
      : { event, receivedAt: now, unchecked: true, source };
  const held = entity.held ?? mark;
  // Sequenced entries sorted by seq ahead of unsequenced ones, as the rules keep them.
  const buffer = [...entity.buffer];
  const at =
    event.seq === undefined
      ? buffer.length
      : (() => {
          const index = buffer.findIndex(
            (other) => other.event.seq === undefined || other.event.seq > (event.seq as number),
          );
          return index === -1 ? buffer.length : index;
        })();
  buffer.splice(at, 0, entry);
  return {
    ...unchanged(entity),
    entity: { ...entity, buffer, held },
    outcomes: [outcome('buffered', 'entity-held', held.detail)],
    bufferAdded: [entry],
    heldChanged: entity.held === undefined,
  };
}

function unchanged(entity: EntityState): Decision {
  return {
    outcomes: [],
    entity,
    applied: [],
    deadLetters: [],
    bufferAdded: [],
    bufferRemoved: [],
    seenAdded: [],
    parkedChanged: false,
    heldChanged: false,
    moved: false,
  };
}
