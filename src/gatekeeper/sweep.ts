/**
 * The sweep, run by the StallSweeper on a timer (and by `sweep()`): what must happen on
 * wall-clock time when no further event comes for an entity. Releases entities whose hold has
 * ended, releases held timed events whose hold is over, then runs the stall policies.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { AttentionEntry } from '../core/attention.ts';
import type { Clock } from '../core/clock.ts';
import { oldestBufferedAt } from '../core/entity.ts';
import type { Outcome } from '../core/outcome.ts';
import { decideRelease, decideStall } from '../core/sweeper-decisions.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { asDecided, type DecisionLoop } from './decision-loop.ts';
import type { StalledReport } from './gatekeeper-api.ts';
import type { HeldEntities } from './held-entities.ts';
import { releaseEndedHolds } from './lifecycle-verbs.ts';
import { entityId } from './resident-entities.ts';

export interface SweepDeps {
  loop: DecisionLoop;
  held: HeldEntities;
  store: EntityStore;
  clock: Clock;
  aggregates: ReadonlyMap<string, Aggregate>;
  attention(): Promise<AttentionEntry[]>;
  stalled(): Promise<StalledReport[]>;
}

/**
 * How often the sweeper runs: `sweepIntervalMs` when given (0 turns it off), else a quarter of the
 * smallest stall limit (1 s to 60 s), or half the smallest hold (at least 50 ms) when that is sooner.
 */
export function sweepInterval(
  sweepIntervalMs: number | undefined,
  aggregates: ReadonlyMap<string, Aggregate>,
): number {
  const smallestStall = Math.min(...[...aggregates.values()].map((a) => a.stallAfterMs));
  // A hold is released by the next event of its entity, or by the sweeper when none comes: then
  // within half a hold of its end.
  const smallestHold = Math.min(...holdsOf(aggregates));
  return (
    sweepIntervalMs ?? Math.min(60_000, Math.max(1_000, smallestStall / 4), Math.max(50, smallestHold / 2))
  );
}

export async function sweep(deps: SweepDeps): Promise<Outcome[]> {
  const { loop, aggregates } = deps;
  const outcomes = await releaseEndedHolds(loop.reload, aggregates, await deps.attention());
  outcomes.push(...(await releaseHeld(deps)));
  for (const report of await deps.stalled()) {
    const aggregate = aggregates.get(report.aggregate) as Aggregate;
    if (aggregate.onStall === 'keep') continue;
    const decided = await loop.decideFor(
      aggregate,
      report.key,
      (resident, now) => {
        const oldest = oldestBufferedAt(resident.entity);
        // Another decision may have drained the buffer since the index was read.
        if (oldest === undefined || now - oldest <= aggregate.stallAfterMs) return undefined;
        return decideStall(loop.contextFor(resident, now), resident.entity);
      },
      asDecided,
    );
    outcomes.push(...decided.outcomes);
  }
  return outcomes;
}

/**
 * Time mode without further traffic: entities whose held events' hold is over get them
 * released. First those this process left holding events (it knows when each is due), then
 * the store's buffer index for the rest (held by another process, or before a restart): an
 * entity whose oldest buffered event waited longer than its aggregate's hold. An entity with
 * nothing due is decided to no effect and not committed.
 */
async function releaseHeld(deps: SweepDeps): Promise<Outcome[]> {
  const { loop, held, aggregates } = deps;
  const outcomes: Outcome[] = [];
  const holds = holdsOf(aggregates);
  if (holds.length === 0) return outcomes;
  const now = deps.clock.now();
  const visits = held.due(now);
  const visited = new Set(visits.map((visit) => visit.id));
  for (const candidate of await deps.store.stalled(now - Math.min(...holds), 1_000)) {
    const id = entityId(candidate.aggregate, candidate.key);
    const holdMs = aggregates.get(candidate.aggregate)?.holdMs ?? 0;
    if (visited.has(id) || held.knows(id) || holdMs === 0 || now - candidate.oldestBufferedAt <= holdMs)
      continue;
    visits.push({ id, ref: candidate });
  }
  for (const { id, ref } of visits) {
    const aggregate = aggregates.get(ref.aggregate);
    if (!aggregate) continue;
    const decided = await loop.decideFor(
      aggregate,
      ref.key,
      (resident, at) => {
        const decision = decideRelease(loop.contextFor(resident, at), resident.entity);
        if (decision.outcomes.length > 0) return decision;
        // Nothing committed, so settle() will not say when to look again: say it here (a parked
        // entity, or events that wait on the machine, are not visited again until they change).
        held.note(id, resident.ref, resident.entity, at, aggregate.holdMs, true);
        return undefined;
      },
      asDecided,
    );
    outcomes.push(...decided.outcomes);
  }
  return outcomes;
}

/** The aggregates' holds that are on (time mode with holdMs > 0). */
function holdsOf(aggregates: ReadonlyMap<string, Aggregate>): number[] {
  return [...aggregates.values()].flatMap((aggregate) => (aggregate.holdMs > 0 ? [aggregate.holdMs] : []));
}
