/**
 * The dry run of a machine change: for each aggregate of the given registry, how many stored
 * entities are on each machine version and what loading each under these machines would do —
 * nothing (already current), carry on (restores unchanged), migrate, or hold (with the reason).
 * Read-only: it scans the store and restores snapshots in memory, committing nothing.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { HeldReason } from '../core/attention.ts';
import type { KnownVersion } from '../core/machine-version.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { hydrate } from './hydrate.ts';
import { SnapshotCursor } from './snapshot-cursor.ts';

export type PlannedAction = 'current' | 'carry-on' | 'migrate' | 'held';

export interface PlannedEntity {
  key: string;
  storedVersion: string | undefined;
  action: PlannedAction;
  reason?: HeldReason | undefined;
  detail?: string | undefined;
}

export interface VersionPlan {
  aggregate: string;
  /** The version these machines stamp. */
  version: string;
  explicitVersion: boolean;
  /** Stored entities per machine version ("unversioned" for entities stored before versions). */
  storedVersions: Record<string, number>;
  counts: Record<PlannedAction, number>;
  /** Held entities by reason. */
  held: Partial<Record<HeldReason, number>>;
  /** The entities themselves, up to `listLimit` (the counts are always complete). */
  entities: PlannedEntity[];
}

export async function planVersions(
  aggregates: ReadonlyMap<string, Aggregate>,
  store: EntityStore,
  options: { now?: number; listLimit?: number } = {},
): Promise<VersionPlan[]> {
  const now = options.now ?? 0;
  const listLimit = options.listLimit ?? 10_000;
  const known = new Map<string, Map<string, KnownVersion>>();
  for (const row of await store.versions()) {
    let versions = known.get(row.aggregate);
    if (!versions) known.set(row.aggregate, (versions = new Map<string, KnownVersion>()));
    versions.set(row.version, { version: row.version, firstSeenAt: row.firstSeenAt });
  }
  const plans: VersionPlan[] = [];
  for (const aggregate of aggregates.values()) {
    const plan: VersionPlan = {
      aggregate: aggregate.name,
      version: aggregate.version,
      explicitVersion: aggregate.explicitVersion,
      storedVersions: {},
      counts: { current: 0, 'carry-on': 0, migrate: 0, held: 0 },
      held: {},
      entities: [],
    };
    const note = (entity: PlannedEntity) => {
      const stamp = entity.storedVersion ?? 'unversioned';
      plan.storedVersions[stamp] = (plan.storedVersions[stamp] ?? 0) + 1;
      plan.counts[entity.action] += 1;
      if (entity.reason) plan.held[entity.reason] = (plan.held[entity.reason] ?? 0) + 1;
      if (plan.entities.length < listLimit) plan.entities.push(entity);
    };
    await store.scan(aggregate.name, (scanned) => {
      if (scanned.error) {
        note({
          key: scanned.key,
          storedVersion: undefined,
          action: 'held',
          reason: 'corrupt-snapshot',
          detail: scanned.error.message,
        });
        return;
      }
      const { stored } = scanned;
      const loaded = hydrate(aggregate, { aggregate: aggregate.name, key: scanned.key }, stored, {
        now,
        known: known.get(aggregate.name),
        makeCursor: (snapshot) => new SnapshotCursor(aggregate.machine, snapshot),
      });
      const base = { key: scanned.key, storedVersion: stored.machineVersion };
      if (loaded.hold)
        note({ ...base, action: 'held', reason: loaded.hold.reason, detail: loaded.hold.detail });
      else if (loaded.lifecycle?.kind === 'migrated' && loaded.lifecycle.reason === 'migration')
        note({ ...base, action: 'migrate', detail: loaded.lifecycle.detail });
      else if (stored.machineVersion !== aggregate.version)
        note({ ...base, action: 'carry-on', detail: loaded.lifecycle?.detail });
      else note({ ...base, action: 'current', detail: loaded.lifecycle?.detail });
    });
    plans.push(plan);
  }
  return plans;
}
