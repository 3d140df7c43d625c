/**
 * Opens the store the flags ask for: the embedded memory store by default.
 */
import type { EntityStore } from '../store/entity-store.ts';
import { memoryStore } from '../store/memory-store.ts';
import type { FlagValues } from './command.ts';

/** Flags every store-using command accepts. */
export const storeOptions = {} as const;

export function openStore(_flags: FlagValues): Promise<EntityStore> {
  return Promise.resolve(memoryStore());
}
