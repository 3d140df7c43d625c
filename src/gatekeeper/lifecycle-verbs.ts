/**
 * The operator verbs on an entity's snapshot (see docs/changing-machines.md): `migrate` loads it
 * again under the deployed machines, `reset` starts it from the initial state, and the sweeper
 * releases held entities whose hold has ended. Each runs through `reload`, which evicts the
 * resident, loads it as stored now and commits its migration, restamp, release or reset first.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { AttentionEntry, HeldMark } from '../core/attention.ts';
import { OperatorActionError } from '../core/errors.ts';
import type { Outcome } from '../core/outcome.ts';

/** What reloading one entity did: the outcomes of its lifecycle step (if one ran), and its hold. */
export interface Reloaded {
  changed: boolean;
  outcomes: Outcome[];
  hold: HeldMark | undefined;
}

export type Reload = (aggregate: Aggregate, key: string, reset?: { resetSeq: boolean }) => Promise<Reloaded>;

export async function migrateEntity(reload: Reload, aggregate: Aggregate, key: string): Promise<Outcome[]> {
  const { changed, outcomes, hold } = await reload(aggregate, key);
  const name = `${aggregate.name}/${key}`;
  if (hold) throw new OperatorActionError(`${name} is still held (${hold.reason}): ${hold.detail}`);
  if (!changed)
    throw new OperatorActionError(
      `${name} is already at version ${aggregate.version} and not held: nothing to migrate`,
    );
  return outcomes;
}

export async function resetEntity(
  reload: Reload,
  aggregate: Aggregate,
  key: string,
  resetSeq: boolean,
): Promise<Outcome[]> {
  return (await reload(aggregate, key, { resetSeq })).outcomes;
}

/**
 * Loads every held entity of a known aggregate again: one whose hold has ended (a process on its
 * version now runs here, a migration was deployed, its aggregate is registered here) is migrated
 * or released and drained, so its events do not wait for the next event or an operator.
 */
export async function releaseEndedHolds(
  reload: Reload,
  aggregates: ReadonlyMap<string, Aggregate>,
  attention: readonly AttentionEntry[],
): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const entry of attention) {
    const aggregate = aggregates.get(entry.aggregate);
    if (!aggregate || entry.reason === 'parked-on-rejection') continue;
    outcomes.push(...(await reload(aggregate, entry.key)).outcomes);
  }
  return outcomes;
}
