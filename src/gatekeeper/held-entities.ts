/**
 * The entities this process left with held timed events, and when a release can next make
 * progress for each. The sweeper visits the due ones without asking the store, and skips the
 * ones it knows have nothing due when the store's buffer index lists them, so entities stuck on
 * events that wait for the machine (not the clock) do not crowd out the ones whose hold is over.
 */
import type { EntityState } from '../core/entity.ts';
import { nextReleaseAt } from '../core/time-order.ts';
import type { EntityRef } from '../store/entity-store.ts';

export class HeldEntities {
  private readonly entities = new Map<string, { ref: EntityRef; dueAfter: number }>();

  /**
   * Where an entity of an aggregate with a hold stands: after a committed decision, or after a
   * release that changed nothing (`settled`, see nextReleaseAt).
   */
  note(id: string, ref: EntityRef, entity: EntityState, now: number, holdMs: number, settled = false): void {
    const dueAfter = nextReleaseAt(entity.buffer, now, holdMs, settled);
    if (dueAfter === undefined) this.entities.delete(id);
    else this.entities.set(id, { ref, dueAfter });
  }

  /** Entities with a hold over at `now` (released when now is strictly past it). */
  due(now: number): { id: string; ref: EntityRef }[] {
    const due: { id: string; ref: EntityRef }[] = [];
    for (const [id, { ref, dueAfter }] of this.entities) if (now > dueAfter) due.push({ id, ref });
    return due;
  }

  /** True when this process decided the entity last with timed events waiting. */
  knows(id: string): boolean {
    return this.entities.has(id);
  }

  clear(): void {
    this.entities.clear();
  }
}
