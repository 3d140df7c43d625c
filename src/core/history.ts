/**
 * Per-entity decision history: what happened to each event, kept bounded by the store.
 */
import type { Outcome, OutcomeKind, OutcomeReason, StateValue } from './outcome.ts';

/**
 * Entries that record what happened to the entity itself rather than to an event: `migrated`
 * (its snapshot moved to another machine version: reason `migration` or `compatible`, detail
 * naming both versions), `released` (a hold ended), `reset` (an operator reset it).
 */
export type LifecycleKind = 'migrated' | 'released' | 'reset';
export type LifecycleReason = 'migration' | 'compatible' | 'restorable' | 'operator-reset';

export interface HistoryEntry {
  at: number;
  id: string | null;
  seq: number | null;
  type: string | null;
  outcome: OutcomeKind | LifecycleKind;
  reason: OutcomeReason | LifecycleReason;
  detail?: string | undefined;
  /** State before (for applied) and after the outcome. */
  from?: StateValue | undefined;
  state: StateValue | null;
  fromBuffer: boolean;
  /** The machine version of the process that made the decision. */
  machineVersion?: string | undefined;
  /** On `migrated` entries: the machine version the snapshot had, and the one it has now. */
  fromVersion?: string | undefined;
  toVersion?: string | undefined;
}

export const DEFAULT_HISTORY_LIMIT = 100;

/** One fixed object shape (absent fields undefined, dropped by JSON.stringify): spreads were slow here. */
export function toHistoryEntry(outcome: Outcome, at: number, machineVersion?: string): HistoryEntry {
  return {
    at,
    id: outcome.id,
    seq: outcome.seq,
    type: outcome.type,
    outcome: outcome.outcome,
    reason: outcome.reason,
    detail: outcome.detail,
    from: outcome.from,
    state: outcome.state,
    fromBuffer: outcome.fromBuffer,
    machineVersion,
  };
}

/** A lifecycle entry (see LifecycleKind); `versions` names the stored and the current machine version. */
export function lifecycleEntry(
  outcome: LifecycleKind,
  reason: LifecycleReason,
  detail: string,
  state: StateValue | null,
  at: number,
  versions?: { from: string | undefined; to: string },
): HistoryEntry {
  return {
    at,
    id: null,
    seq: null,
    type: null,
    outcome,
    reason,
    detail,
    from: undefined,
    state,
    fromBuffer: false,
    ...(versions ? { machineVersion: versions.to, fromVersion: versions.from, toVersion: versions.to } : {}),
  };
}
