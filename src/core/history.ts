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
  detail?: string;
  /** State before (for applied) and after the outcome. */
  from?: StateValue;
  state: StateValue | null;
  fromBuffer: boolean;
}

export const DEFAULT_HISTORY_LIMIT = 100;

export function toHistoryEntry(outcome: Outcome, at: number): HistoryEntry {
  return {
    at,
    id: outcome.id,
    seq: outcome.seq,
    type: outcome.type,
    outcome: outcome.outcome,
    reason: outcome.reason,
    ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
    ...(outcome.from === undefined ? {} : { from: outcome.from }),
    state: outcome.state,
    fromBuffer: outcome.fromBuffer,
  };
}
