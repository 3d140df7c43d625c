/**
 * The resident entities: entities with a live actor and their rules' state cached in memory,
 * least recently used first. Past the cap, idle entities are evicted (their state is in the
 * store), so memory stays bounded however many keys flow through.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { EntityState } from '../core/entity.ts';
import type { EntityRef } from '../store/entity-store.ts';
import type { ActorCursor } from './actor-cursor.ts';

export interface Resident {
  ref: EntityRef;
  aggregate: Aggregate;
  cursor: ActorCursor;
  entity: EntityState;
  /** The store version `entity` and `cursor` correspond to. */
  version: number;
}

export class ResidentEntities {
  private readonly residents = new Map<string, Resident>();

  constructor(
    private readonly cap: number,
    private readonly isBusy: (id: string) => boolean,
  ) {}

  get(id: string): Resident | undefined {
    const resident = this.residents.get(id);
    if (resident) {
      // Re-inserting moves the entry to the young end of the Map's insertion order.
      this.residents.delete(id);
      this.residents.set(id, resident);
    }
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
    for (const [id, resident] of this.residents) {
      if (evicted >= count) return;
      if (this.isBusy(id)) continue;
      resident.cursor.stop();
      this.residents.delete(id);
      evicted += 1;
    }
  }
}
