/**
 * The entry point users call. The memory store is the default so the gatekeeper works embedded
 * with no services; pass `redisStore(...)` for durable, multi-process use.
 */
import { memoryStore } from './store/memory-store.ts';
import type { EntityStore } from './store/entity-store.ts';
import {
  createGatekeeperWithStore,
  type Gatekeeper,
  type GatekeeperOptions,
} from './gatekeeper/gatekeeper.ts';

export type CreateGatekeeperOptions = Omit<GatekeeperOptions, 'store'> & { store?: EntityStore };

export function createGatekeeper(options: CreateGatekeeperOptions): Gatekeeper {
  // With a transition handler the default store keeps the effects queue it reads.
  const store = options.store ?? memoryStore({ effects: options.effects !== undefined });
  return createGatekeeperWithStore({ ...options, store });
}
