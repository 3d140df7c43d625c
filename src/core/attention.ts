/**
 * One model for every reason an entity stops and waits for an operator: parked on a rejected
 * event (policy `park`), or held because its stored snapshot cannot be decided by this process
 * (another machine version, corrupt bytes, a failed migration, an aggregate this process does not
 * know). A stopped entity keeps its later events buffered (never rejected, never lost) and is
 * listed in one attention list with its reason, released by one set of operator verbs.
 */

/** Why an entity is held (its snapshot is not decided here); see `HeldMark`. */
export const HELD_REASONS = [
  /** The stored snapshot does not restore under the current machine, and no migration applies. */
  'incompatible-snapshot',
  /** The entity was committed under a newer version than this process runs (a rolling deploy). */
  'newer-version',
  /** The aggregate's migration threw. */
  'migration-threw',
  /** The aggregate's migration returned a snapshot the current machine cannot restore. */
  'migration-invalid',
  /** The stored snapshot's bytes cannot be read. */
  'corrupt-snapshot',
  /** Other stored fields of the entity (buffered events, parked event, seq) cannot be read. */
  'corrupt-entity',
  /** This process has no machine for the aggregate, but another member of the store does. */
  'aggregate-not-registered',
] as const;
export type HeldReason = (typeof HELD_REASONS)[number];

/**
 * Every reason an entity can need attention: parked on a rejection, held (above), or stopped on a
 * transition handler that failed its last attempt (`effect-failed`: its later effects are held).
 */
export type AttentionReason = 'parked-on-rejection' | HeldReason | 'effect-failed';

/** An entity held: why, since when, and the versions involved. Stored with the entity. */
export interface HeldMark {
  reason: HeldReason;
  /** What happened and what an operator can do, in words. */
  detail: string;
  since: number;
  /** The version the stored snapshot carries, when known. */
  storedVersion?: string | undefined;
  /** The version of the process that held it. */
  machineVersion?: string | undefined;
}

/** One entry of the attention list. */
export interface AttentionEntry {
  aggregate: string;
  key: string;
  reason: AttentionReason;
  detail: string;
  since: number;
}
