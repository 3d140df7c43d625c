/**
 * The resident entities: entities with a live actor and their rules' state cached in memory,
 * least recently used first. Past the cap, idle entities are evicted (their state is in the
 * store), so memory stays bounded however many keys flow through.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { EntityState } from '../core/entity.ts';
import type { EntityRef, SyncEntityRecord } from '../store/entity-store.ts';
import type { HeldMark } from '../core/attention.ts';
import type { EntityCursor, LifecycleStep } from './hydrate.ts';

export interface Resident {
  ref: EntityRef;
  /** The in-process store's record of this entity, on stores that offer one. */
  record: SyncEntityRecord | undefined;
  aggregate: Aggregate;
  cursor: EntityCursor;
  entity: EntityState;
  /** The store version `entity` and `cursor` correspond to. */
  version: number;
  /** The machine version its commits stamp (the current one, or a held entity's own; "" for none). */
  machineVersion: string;
  /** The machine version the store has stamped on the entity (undefined: none yet). */
  stamped: string | undefined;
  /** Set while the entity is held: every decision buffers (see core/attention.ts). */
  hold: HeldMark | undefined;
  /** A migration, restamp or release to commit before the entity's next decision. */
  lifecycle: LifecycleStep | undefined;
  /** Set on every use; cleared when eviction passes over the entity once. */
  recentlyUsed?: boolean;
}

export class ResidentEntities {
  private readonly residents = new Map<string, Resident>();

  constructor(
    private readonly cap: number,
    private readonly isBusy: (id: string) => boolean,
  ) {}

  get(id: string): Resident | undefined {
    const resident = this.residents.get(id);
    // Second-chance LRU: a flag here, the reordering only when eviction runs (cheaper per event).
    if (resident) resident.recentlyUsed = true;
    return resident;
  }

  set(id: string, resident: Resident): void {
    this.residents.set(id, resident);
    if (this.residents.size > this.cap) this.evictIdle(this.residents.size - this.cap);
  }

  evict(id: string): void {
    const resident = this.residents.get(id);
    if (!resident) return;
    resident.cursor.stop();
    this.residents.delete(id);
  }

  clear(): void {
    for (const resident of this.residents.values()) resident.cursor.stop();
    this.residents.clear();
  }

  get size(): number {
    return this.residents.size;
  }

  private evictIdle(count: number): void {
    let evicted = 0;
    let visited = 0;
    const limit = this.residents.size * 2; // every entry gets its second chance at most once
    for (const [id, resident] of this.residents) {
      if (evicted >= count || visited >= limit) return;
      visited += 1;
      if (this.isBusy(id)) continue;
      if (resident.recentlyUsed) {
        resident.recentlyUsed = false;
        this.residents.delete(id);
        this.residents.set(id, resident);
        continue;
      }
      resident.cursor.stop();
      this.residents.delete(id);
      evicted += 1;
    }
  }
}

/** The one id of an entity in this process: residents, mailboxes and held entities are keyed by it. */
export function entityId(aggregate: string, key: string): string {
  return `${aggregate}\u0000${key}`;
}
