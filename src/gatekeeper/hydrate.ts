/**
 * The load path of an entity: turns what the store holds into a resident's cursor, deciding
 * what to do with a snapshot stamped with another machine version, in this order:
 *   1. the aggregate's `migrate` (chained) turns it into a snapshot of the current version, which
 *      must restore under the current machine; committed as a decision of its own (`migrated`);
 *   2. else a snapshot that restores cleanly under the current machine carries on (a compatible
 *      change) and is restamped with the current version;
 *   3. else the entity is held with a reason (see core/attention.ts): its events are buffered and
 *      it waits for an operator. So is a snapshot committed under a newer version (a rolling
 *      deploy: this process must not decide it), one whose bytes cannot be read, one the machine
 *      throws on, and one whose migration throws or returns something the machine cannot restore.
 * Nothing here throws for what is stored: every failure becomes a hold with words for an operator.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { HeldMark, HeldReason } from '../core/attention.ts';
import type { Decision, DecisionContext } from '../core/decision.ts';
import { decideResume } from '../core/operator-decisions.ts';
import type { EntityState } from '../core/entity.ts';
import { messageOf } from '../core/errors.ts';
import {
  lifecycleEntry,
  toHistoryEntry,
  type HistoryEntry,
  type LifecycleKind,
  type LifecycleReason,
} from '../core/history.ts';
import { compareVersions, migrationPath, type KnownVersion } from '../core/machine-version.ts';
import type { StateValue } from '../core/outcome.ts';
import type { PersistedSnapshot } from '../core/snapshot.ts';
import type { EntityRef, StoredEntity } from '../store/entity-store.ts';
import type { ActorCursor } from './actor-cursor.ts';
import { HeldCursor } from './held-cursor.ts';
import type { SnapshotCursor } from './snapshot-cursor.ts';

export type EntityCursor = ActorCursor | SnapshotCursor | HeldCursor;

/** A decision of the entity's own that must be committed before anything else is decided for it. */
export interface LifecycleStep {
  kind: LifecycleKind;
  reason: LifecycleReason;
  detail: string;
  from: string | undefined;
  to: string;
  /** For a reset that also resets the sequence. */
  lastSeq?: number | undefined;
}

export interface Hydration {
  cursor: EntityCursor;
  /** The version the entity's commits stamp: the current one, or a held entity's own ("" when none). */
  machineVersion: string;
  /** Set when the entity is held. */
  hold: HeldMark | undefined;
  lifecycle: LifecycleStep | undefined;
}

export interface HydrateOptions {
  now: number;
  /** The store's versions of this aggregate, as last read (to tell older from newer). */
  known: ReadonlyMap<string, KnownVersion> | undefined;
  /** Builds the live cursor; throws when the machine cannot restore the snapshot. */
  makeCursor: (snapshot: PersistedSnapshot | undefined) => EntityCursor;
  /** An operator reset: start from the initial state whatever is stored. */
  reset?: { resetSeq: boolean } | undefined;
}

export function hydrate(
  aggregate: Aggregate,
  ref: EntityRef,
  stored: StoredEntity | undefined,
  options: HydrateOptions,
): Hydration {
  const current = aggregate.version;
  const name = `${ref.aggregate}/${ref.key}`;
  const ready = (cursor: EntityCursor, lifecycle?: LifecycleStep): Hydration => ({
    cursor,
    machineVersion: current,
    hold: undefined,
    lifecycle: lifecycle ?? (stored?.held ? released(stored, current) : undefined),
  });
  if (options.reset) {
    return ready(options.makeCursor(undefined), {
      kind: 'reset',
      reason: 'operator-reset',
      detail: `an operator reset ${name} to the initial state of version ${current}${options.reset.resetSeq ? ' and its seq to 0' : ` (seq stays ${stored?.lastSeq ?? 0})`}`,
      from: stored?.machineVersion,
      to: current,
      lastSeq: options.reset.resetSeq ? 0 : undefined,
    });
  }
  if (!stored) return ready(options.makeCursor(undefined));
  const storedVersion = stored.machineVersion;
  const hold = (reason: HeldReason, detail: string): Hydration => ({
    cursor: new HeldCursor(stored.snapshot),
    machineVersion: storedVersion ?? '',
    hold: { reason, detail, since: options.now, storedVersion, machineVersion: current },
    lifecycle: undefined,
  });
  const remedy = `deploy a migrate for it and run \`gatekeeper migrate ${ref.aggregate} ${ref.key}\`, or \`gatekeeper reset ${ref.aggregate} ${ref.key}\``;
  if (stored.snapshotError) return hold('corrupt-snapshot', `${stored.snapshotError}; ${remedy}`);
  if (stored.corrupt)
    return hold(
      'corrupt-entity',
      `stored fields of ${name} cannot be read (${stored.corrupt}); repair or delete them, then \`gatekeeper migrate ${ref.aggregate} ${ref.key}\``,
    );

  const restore = (snapshot: PersistedSnapshot | undefined): EntityCursor | Error => {
    try {
      return options.makeCursor(snapshot);
    } catch (error) {
      return error instanceof Error ? error : new Error(String(error));
    }
  };

  if (storedVersion === undefined || storedVersion === current) {
    const cursor = restore(stored.snapshot);
    if (!(cursor instanceof Error)) return ready(cursor);
    return hold(
      'incompatible-snapshot',
      `the stored snapshot of ${name}${storedVersion === undefined ? '' : ` (version ${storedVersion})`} does not restore under the ${aggregate.name} machine: ${cursor.message}; ${remedy}`,
    );
  }

  if (compareVersions(storedVersion, current, aggregate.migrate, options.known) === 'newer') {
    return hold(
      'newer-version',
      `${name} was committed under version ${storedVersion}, newer than this process's version ${current}: it is left to processes running ${storedVersion} (its events stay buffered) until this process is upgraded`,
    );
  }

  const path = migrationPath(storedVersion, current, aggregate.migrate);
  if (path && stored.snapshot !== undefined) {
    let snapshot: PersistedSnapshot = stored.snapshot;
    for (const step of path) {
      try {
        snapshot = step.run(structuredClone(snapshot), { from: step.from, to: step.to });
      } catch (error) {
        return hold(
          'migration-threw',
          `the migration of ${name} from version ${step.from} to ${step.to} threw: ${messageOf(error)}`,
        );
      }
    }
    const cursor = checkMigrated(snapshot, restore);
    if (cursor instanceof Error) {
      return hold(
        'migration-invalid',
        `the migration of ${name} from version ${storedVersion} returned a snapshot the ${aggregate.name} machine (version ${current}) cannot restore: ${cursor.message}`,
      );
    }
    return ready(cursor, {
      kind: 'migrated',
      reason: 'migration',
      detail: `migrated from version ${storedVersion} to ${current}`,
      from: storedVersion,
      to: current,
    });
  }

  const cursor = restore(stored.snapshot);
  if (cursor instanceof Error) {
    return hold(
      'incompatible-snapshot',
      `${name} was stored under version ${storedVersion} and does not restore under version ${current}: ${cursor.message}; ${remedy.replace('for it', `for version ${storedVersion}`)}`,
    );
  }
  return ready(cursor, {
    kind: 'migrated',
    reason: 'compatible',
    detail: `stored under version ${storedVersion}, restored unchanged under version ${current} (a compatible change)`,
    from: storedVersion,
    to: current,
  });
}

function released(stored: StoredEntity, current: string): LifecycleStep {
  return {
    kind: 'released',
    reason: 'restorable',
    detail: `the hold (${stored.held?.reason ?? 'unknown'}) ended: the entity restores under version ${current}`,
    from: stored.machineVersion,
    to: current,
  };
}

/** A migration's result must be a snapshot object the machine restores. */
function checkMigrated(
  snapshot: unknown,
  restore: (snapshot: PersistedSnapshot) => EntityCursor | Error,
): EntityCursor | Error {
  if (typeof snapshot !== 'object' || snapshot === null || Array.isArray(snapshot))
    return new Error(`it returned ${snapshot === null ? 'null' : typeof snapshot}, not a snapshot object`);
  const value = (snapshot as { value?: unknown }).value;
  if (typeof value !== 'string' && (typeof value !== 'object' || value === null))
    return new Error('the snapshot has no state value');
  return restore(snapshot as PersistedSnapshot);
}

/**
 * The lifecycle step as a decision: the hold (if any) ends, the snapshot under the current
 * version is persisted, what waited is drained; history records the step first.
 */
export function lifecycleDecision(
  context: DecisionContext,
  entity: EntityState,
  step: LifecycleStep,
  state: StateValue,
  now: number,
): { decision: Decision; history: HistoryEntry[] } {
  const decision = decideResume(context, entity, { lastSeq: step.lastSeq });
  const history = [
    lifecycleEntry(step.kind, step.reason, step.detail, state, now, { from: step.from, to: step.to }),
    ...decision.outcomes.map((outcome) => toHistoryEntry(outcome, now, step.to)),
  ];
  return { decision, history };
}
