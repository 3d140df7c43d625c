/**
 * Per-entity decision history: what happened to each event, kept bounded by the store.
 */
import type { Outcome, OutcomeKind, OutcomeReason, StateValue } from './outcome.ts';

export interface HistoryEntry {
  at: number;
  id: string | null;
  seq: number | null;
  type: string | null;
  outcome: OutcomeKind;
  reason: OutcomeReason;
  detail?: string | undefined;
  /** State before (for applied) and after the outcome. */
  from?: StateValue | undefined;
  state: StateValue | null;
  fromBuffer: boolean;
}

export const DEFAULT_HISTORY_LIMIT = 100;

/** One fixed object shape (absent fields undefined, dropped by JSON.stringify): spreads were slow here. */
export function toHistoryEntry(outcome: Outcome, at: number): HistoryEntry {
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
  };
}
