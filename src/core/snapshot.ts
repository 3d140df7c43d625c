/** A persisted XState snapshot (`actor.getPersistedSnapshot()`), JSON-safe. */
export type PersistedSnapshot = Record<string, unknown>;
