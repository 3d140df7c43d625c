/**
 * Runs a demo stream through a gatekeeper and checks every entity against in-order processing.
 * Shared by `gatekeeper demo` and the benchmarks.
 */
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import type { Outcome, OutcomeKind } from '../core/outcome.ts';
import { inOrderReference } from './in-order-reference.ts';
import type { DemoStream } from './stream.ts';

export interface DemoSummary {
  inputs: number;
  seconds: number;
  eventsPerSec: number;
  /** outcome → reason → count */
  byReason: Record<string, Record<string, number>>;
  entities: number;
  matching: number;
  mismatches: { aggregate: string; key: string; expected: unknown; actual: unknown }[];
}

/** Inputs handed to the gatekeeper per batch; per-key order holds regardless. */
const BATCH = 512;

export async function feed(
  gatekeeper: Gatekeeper,
  inputs: readonly unknown[],
  onOutcome?: (outcome: Outcome) => void,
  onEvent?: () => void,
): Promise<void> {
  for (let start = 0; start < inputs.length; start += BATCH) {
    const batch = inputs.slice(start, start + BATCH);
    if (onEvent) for (let count = 0; count < batch.length; count += 1) onEvent();
    await gatekeeper.handleBatch(batch, onOutcome && ((result) => result.outcomes.forEach(onOutcome)));
  }
}

export async function runDemo(
  gatekeeper: Gatekeeper,
  stream: DemoStream,
  hooks: { onOutcome?: (outcome: Outcome) => void; onEvent?: () => void } = {},
): Promise<DemoSummary> {
  const byReason: Record<string, Record<string, number>> = {};
  const count = (outcome: Outcome) => {
    const reasons = (byReason[outcome.outcome] ??= {});
    reasons[outcome.reason] = (reasons[outcome.reason] ?? 0) + 1;
    hooks.onOutcome?.(outcome);
  };
  const started = performance.now();
  await feed(gatekeeper, stream.inputs, count, hooks.onEvent);
  await gatekeeper.idle();
  const seconds = (performance.now() - started) / 1000;

  const mismatches: DemoSummary['mismatches'] = [];
  for (const history of stream.histories) {
    const first = history[0];
    if (!first) continue;
    const aggregate = gatekeeper.aggregates.get(first.aggregate);
    if (!aggregate) continue;
    const expected = inOrderReference(aggregate, history).state;
    const actual = (await gatekeeper.inspect(first.aggregate, first.key))?.state;
    if (JSON.stringify(expected) !== JSON.stringify(actual)) {
      mismatches.push({ aggregate: first.aggregate, key: first.key, expected, actual });
    }
  }
  return {
    inputs: stream.inputs.length,
    seconds,
    eventsPerSec: Math.round(stream.inputs.length / seconds),
    byReason,
    entities: stream.histories.length,
    matching: stream.histories.length - mismatches.length,
    mismatches,
  };
}

export function totalOf(summary: DemoSummary, outcome: OutcomeKind): number {
  return Object.values(summary.byReason[outcome] ?? {}).reduce((sum, n) => sum + n, 0);
}
