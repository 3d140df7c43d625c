/**
 * What `inspect` shows of one entity: read from the store and hydrated the way loading it would
 * (without admitting it or committing anything), with its recent rejections and its effects.
 */
import type { Aggregate } from '../core/aggregate.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { inspectEffects } from './effects/wire-effects.ts';
import type { EntityInspection } from './gatekeeper-api.ts';
import type { ResidentLoader } from './resident-loader.ts';

/** Run inside the entity's mailbox, so it sees the entity between two decisions. */
export async function inspectEntity(
  store: EntityStore,
  loader: ResidentLoader,
  definition: Aggregate,
  aggregate: string,
  key: string,
): Promise<EntityInspection | undefined> {
  const stored = await store.load({ aggregate, key });
  if (!stored) return undefined;
  const loaded = await loader.look(definition, { aggregate, key }, stored);
  const { cursor } = loaded;
  const [history, effects] = await Promise.all([
    store.history({ aggregate, key }),
    inspectEffects(store, { aggregate, key }),
  ]);
  return {
    aggregate,
    key,
    state: cursor.value(),
    context: cursor.context(),
    status: cursor.done() ? 'done' : 'active',
    lastSeq: stored.lastSeq,
    lastTime: stored.lastTime,
    version: stored.version,
    buffered: [...stored.buffer],
    parked: stored.parked,
    held: loaded.hold ?? (loaded.lifecycle ? undefined : stored.held),
    storedVersion: stored.machineVersion,
    machineVersion: definition.version,
    pending: loaded.lifecycle?.detail,
    recentRejections: history.filter((entry) => entry.outcome === 'rejected').slice(-10),
    effects,
  } satisfies EntityInspection;
}
