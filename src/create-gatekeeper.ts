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
  return createGatekeeperWithStore({ ...options, store: options.store ?? memoryStore() });
}
