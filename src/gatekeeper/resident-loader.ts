/**
 * Turns what the store holds for an entity into a resident: its cursor restored, migrated,
 * restamped or held (hydrate.ts), with the store's machine versions read first when the entity
 * names a version this process has not seen (they tell an older version from a newer one).
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { Clock } from '../core/clock.ts';
import { EMPTY_ENTITY } from '../core/entity.ts';
import type { EntityRef, StoredEntity, SyncEntityRecord } from '../store/entity-store.ts';
import { ActorCursor, type ActorInspector } from './actor-cursor.ts';
import { hydrate, type EntityCursor, type Hydration } from './hydrate.ts';
import type { Resident } from './resident-entities.ts';
import { SnapshotCursor } from './snapshot-cursor.ts';
import type { VersionRegistry } from './version-registry.ts';

export class ResidentLoader {
  constructor(
    private readonly registry: VersionRegistry,
    private readonly clock: Clock,
    private readonly inspect: ActorInspector | undefined,
  ) {}

  /** A stored version this process has not seen yet: the store's record must be read first. */
  needsVersions(aggregate: Aggregate, stored: StoredEntity | undefined): boolean {
    const version = stored?.machineVersion;
    return (
      version !== undefined && version !== aggregate.version && !this.registry.has(aggregate.name, version)
    );
  }

  /** Reads the store's versions when `stored` needs them: synchronously where the store allows. */
  prepareNow(aggregate: Aggregate, stored: StoredEntity | undefined): void {
    if (this.needsVersions(aggregate, stored)) this.registry.refreshNow();
  }

  async prepare(aggregate: Aggregate, stored: StoredEntity | undefined): Promise<void> {
    if (this.needsVersions(aggregate, stored)) await this.registry.refresh();
  }

  /** How the entity would load, without making it resident (inspect, the dry run). */
  async look(aggregate: Aggregate, ref: EntityRef, stored: StoredEntity): Promise<Hydration> {
    await this.prepare(aggregate, stored);
    return hydrate(aggregate, ref, stored, {
      now: this.clock.now(),
      known: this.registry.versionsOf(aggregate.name),
      makeCursor: (snapshot) => new SnapshotCursor(aggregate.machine, snapshot),
    });
  }

  /** The resident for `stored` (call `prepare` or `prepareNow` first). */
  resident(
    aggregate: Aggregate,
    ref: EntityRef,
    stored: StoredEntity | undefined,
    record: SyncEntityRecord | undefined,
    reset?: { resetSeq: boolean },
  ): Resident {
    const loaded = hydrate(aggregate, ref, stored, {
      now: this.clock.now(),
      known: this.registry.versionsOf(aggregate.name),
      makeCursor: (snapshot): EntityCursor =>
        this.inspect
          ? new ActorCursor(aggregate.machine, snapshot, this.inspect)
          : new SnapshotCursor(aggregate.machine, snapshot),
      reset,
    });
    const storedMark = stored?.held;
    return {
      ref,
      record,
      aggregate,
      cursor: loaded.cursor,
      entity: stored ?? EMPTY_ENTITY,
      version: stored?.version ?? 0,
      machineVersion: loaded.machineVersion,
      stamped: stored?.machineVersion,
      // The stored mark when it says the same, so holding again writes nothing new.
      hold:
        loaded.hold && storedMark?.reason === loaded.hold.reason && storedMark.detail === loaded.hold.detail
          ? storedMark
          : loaded.hold,
      lifecycle: loaded.lifecycle,
    };
  }
}
