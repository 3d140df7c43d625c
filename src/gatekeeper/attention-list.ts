/**
 * The one list of entities waiting for an operator: parked on a rejected event or held (see
 * core/attention.ts). The store keeps one index for both; each entity's record says which.
 */
import type { AttentionEntry } from '../core/attention.ts';
import type { EntityStore } from '../store/entity-store.ts';

export async function readAttention(store: EntityStore, limit: number): Promise<AttentionEntry[]> {
  const refs = await store.parked(limit);
  const entries = await Promise.all(
    refs.map(async (ref): Promise<AttentionEntry | undefined> => {
      const stored = await store.load(ref);
      if (stored?.held) {
        const { reason, detail, since } = stored.held;
        return { ...ref, reason, detail, since };
      }
      if (stored?.parked) {
        const { reason, detail, parkedAt } = stored.parked;
        return { ...ref, reason: 'parked-on-rejection', detail: `${reason}: ${detail}`, since: parkedAt };
      }
      return undefined;
    }),
  );
  return entries.filter((entry): entry is AttentionEntry => entry !== undefined);
}
