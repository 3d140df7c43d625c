/** Small helpers shared by the operator commands (inspect, history, stalled, retry, skip). */
import type { Outcome, StateValue } from '../../core/outcome.ts';

export function describeState(value: StateValue | null): string {
  return value === null ? '-' : typeof value === 'string' ? value : JSON.stringify(value);
}

/** "850 ms", "12 s", "3 min", "5 h", "2 d". */
export function formatAge(ms: number): string {
  if (ms < 1_000) return `${Math.max(0, Math.round(ms))} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1_000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 2 * 86_400_000) return `${Math.round(ms / 3_600_000)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

/** One outcome as a line of text: `applied  order.paid seq 2 → paid (drained)`. */
export function describeOutcome(outcome: Outcome): string {
  const seq = outcome.seq === null ? '' : ` seq ${outcome.seq}`;
  const detail = outcome.detail === undefined ? '' : `: ${outcome.detail}`;
  return `${outcome.outcome.padEnd(9)} ${outcome.type ?? '?'}${seq} → ${describeState(outcome.state)} (${outcome.reason}${detail})${outcome.parked ? ' — parked' : ''}`;
}

/** One outcome as a JSON line, the fields `gatekeeper check` prints (`line` when the event has no id). */
export function outcomeLine(outcome: Outcome, line?: number): string {
  return JSON.stringify({
    id: outcome.id,
    aggregate: outcome.aggregate,
    key: outcome.key,
    seq: outcome.seq,
    type: outcome.type,
    outcome: outcome.outcome,
    reason: outcome.reason,
    state: outcome.state,
    ...(outcome.detail === undefined ? {} : { detail: outcome.detail }),
    ...(outcome.parked ? { parked: true } : {}),
    ...(line === undefined ? {} : { line }),
  });
}
