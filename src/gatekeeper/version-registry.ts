/**
 * What this process knows of the store's machine versions: which aggregates and versions have
 * committed entities and when each version was first committed. Read from the store when a
 * stored entity names a version not seen yet, and at most every `maxAgeMs` for aggregates this
 * process has no machine for (another member of the group may).
 */
import type { Clock } from '../core/clock.ts';
import type { KnownVersion } from '../core/machine-version.ts';
import type { EntityStore, StoredVersion } from '../store/entity-store.ts';

export class VersionRegistry {
  private known = new Map<string, Map<string, KnownVersion & { entities: number }>>();
  private readAt = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly store: EntityStore,
    private readonly clock: Clock,
    private readonly maxAgeMs = 5_000,
  ) {}

  /** The versions of one aggregate, as last read. */
  versionsOf(aggregate: string): ReadonlyMap<string, KnownVersion> | undefined {
    return this.known.get(aggregate);
  }

  has(aggregate: string, version: string): boolean {
    return this.known.get(aggregate)?.has(version) ?? false;
  }

  /** True when the store has entities of `aggregate` committed under some version. */
  knowsAggregate(aggregate: string): boolean {
    const versions = this.known.get(aggregate);
    if (!versions) return false;
    for (const entry of versions.values()) if (entry.entities > 0) return true;
    return false;
  }

  /** Re-reads synchronously where the store allows it (the embedded one); true when it did. */
  refreshNow(): boolean {
    const sync = this.store.sync;
    if (!sync) return false;
    this.adopt(sync.versionsNow());
    return true;
  }

  /** Re-reads from the store (one read at a time; callers share it). */
  refresh(): Promise<void> {
    if (this.refreshNow()) return Promise.resolve();
    this.reading ??= this.store
      .versions()
      .then((rows) => this.adopt(rows))
      .finally(() => (this.reading = undefined));
    return this.reading;
  }

  /** Re-reads when the last read is older than `maxAgeMs`. */
  refreshIfStale(): Promise<void> {
    if (this.clock.now() - this.readAt < this.maxAgeMs) return Promise.resolve();
    return this.refresh();
  }

  private adopt(rows: readonly StoredVersion[]): void {
    const known = new Map<string, Map<string, KnownVersion & { entities: number }>>();
    for (const row of rows) {
      let versions = known.get(row.aggregate);
      if (!versions)
        known.set(row.aggregate, (versions = new Map<string, KnownVersion & { entities: number }>()));
      versions.set(row.version, {
        version: row.version,
        firstSeenAt: row.firstSeenAt,
        entities: row.entities,
      });
    }
    this.known = known;
    this.readAt = this.clock.now();
  }
}

/**
 * What differs between this process's registry and the store's record of committed entities:
 * aggregates other members committed that this process has no machine for, and aggregates with
 * entities under other versions than this process runs. One sentence each, for a log.
 */
export function registryDisagreements(
  aggregates: ReadonlyMap<string, { version: string }>,
  stored: readonly StoredVersion[],
): string[] {
  const byAggregate = new Map<string, StoredVersion[]>();
  for (const row of stored) {
    if (row.entities <= 0) continue;
    byAggregate.set(row.aggregate, [...(byAggregate.get(row.aggregate) ?? []), row]);
  }
  const notes: string[] = [];
  for (const [aggregate, rows] of byAggregate) {
    const counts = rows.map((row) => `${row.entities} on ${row.version}`).join(', ');
    const mine = aggregates.get(aggregate);
    if (!mine) {
      notes.push(
        `the store has ${aggregate} entities (${counts}) but this process has no machine for ${aggregate}: its events are held for a member that has one`,
      );
    } else if (rows.some((row) => row.version !== mine.version)) {
      notes.push(
        `the store has ${aggregate} entities under other versions (${counts}); this process runs ${mine.version}`,
      );
    }
  }
  return notes;
}
