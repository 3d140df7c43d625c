/**
 * Runs a time-mode arrival schedule through a gatekeeper on a ManualClock, for the property tests
 * on every store: one entity's timed history, its deliveries and sweeps, optionally a restart of
 * the gatekeeper on the same store midway (so the state really comes from the store).
 */
import machines from '../../machines/index.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { markOf, type TimedEvent, type TimeMark } from '../../src/core/time-order.ts';
import { customerSteps, orderSteps, toEnvelopes, valveSteps } from '../../src/demo/histories.ts';
import { Random } from '../../src/demo/random.ts';
import { createGatekeeper, type EntityInspection, type Gatekeeper, type Outcome } from '../../src/index.ts';
import type { EntityStore } from '../../src/store/entity-store.ts';
import { memoryStore } from '../../src/store/memory-store.ts';
import { compareMarks } from '../../src/core/time-order.ts';
import { inOrderReference } from '../../src/demo/in-order-reference.ts';
import { expect } from 'vitest';
import { T0 } from './timed.ts';
import { schedule, type Delivery } from './time-schedule.ts';

const stepsFor = { order: orderSteps, customer: customerSteps, valve: valveSteps } as const;
export type TimedAggregate = keyof typeof stepsFor;

/** One entity's legal history without seq, stamped one second apart: true order is time order. */
export function timedHistory(aggregate: TimedAggregate, seed: number, key = `k${seed}`): TimedEvent[] {
  return toEnvelopes(aggregate, key, stepsFor[aggregate](new Random(seed))).map(
    ({ seq: _seq, ...event }, index) => ({
      ...event,
      time: new Date(T0 + (index + 1) * 1_000).toISOString(),
    }),
  );
}

export interface TimedRun {
  /** Every applied transition, as the timed events they were. */
  applied: TimedEvent[];
  /** Each delivery's own outcome, with the last applied event's mark when it arrived. */
  own: { delivery: Delivery; outcome: Outcome; appliedBefore: TimeMark | undefined }[];
  /** The entity after every hold ended and a last sweep ran. */
  inspection: EntityInspection | undefined;
}

export interface TimedRunOptions {
  holdMs: number;
  deliveries: Delivery[];
  sweeps: number[];
  /** The store each gatekeeper opens (default: the embedded one, shared across a restart). */
  store?: () => EntityStore;
  /** Restart the gatekeeper on the same store after this many steps. */
  restartAfter?: number;
}

export async function runTimed(options: TimedRunOptions): Promise<TimedRun> {
  const { holdMs, deliveries, sweeps } = options;
  const start = T0 + 3_600_000;
  const clock = new ManualClock(start);
  const shared = options.store ? undefined : memoryStore();
  const applied: TimedEvent[] = [];
  const open = (): Gatekeeper => {
    const store = options.store ? options.store() : (shared as EntityStore);
    const gk = createGatekeeper({ machines, sweepIntervalMs: 0, clock, defaults: { holdMs }, store });
    gk.subscribe({
      onTransition: (t) =>
        applied.push({ id: t.id, aggregate: t.aggregate, key: t.key, type: t.type, time: t.time as string }),
    });
    return gk;
  };
  let gk = open();
  const own: TimedRun['own'] = [];
  let steps = 0;
  try {
    for (const step of schedule(deliveries, sweeps)) {
      if (steps++ === options.restartAfter) {
        await gk.close();
        gk = open();
      }
      clock.set(start + step.at);
      if (step.kind === 'sweep') {
        await gk.sweep();
        continue;
      }
      const last = applied[applied.length - 1];
      const appliedBefore = last === undefined ? undefined : markOf(last);
      const { outcome } = await gk.handle(structuredClone(step.event));
      own.push({ delivery: step, outcome, appliedBefore });
    }
    clock.advance(holdMs + 1);
    await gk.sweep();
    const { aggregate, key } = (deliveries[0] as Delivery).event;
    return { applied, own, inspection: await gk.inspect(aggregate, key) };
  } finally {
    await gk.close();
  }
}

/** Within the hold: the same transitions, in the same order, as applying the history in time order. */
export function expectInOrderProcessing(
  aggregate: TimedAggregate,
  history: TimedEvent[],
  run: TimedRun,
): void {
  const expected = inOrderReference(createGatekeeper({ machines }).aggregates.get(aggregate)!, history);
  expect(run.applied.map((t) => t.id)).toEqual(expected.applied);
  expect(run.inspection?.state).toEqual(expected.state);
  expect(run.inspection?.buffered).toEqual([]);
}

/**
 * Whatever the arrival order: applied times only increase (nothing older than the last applied
 * time is applied), each event is applied at most once, and an event arriving after a later one
 * was applied is discarded as stale-time (or, for a redelivery, as a duplicate id).
 */
export function expectNothingOlderApplied(run: TimedRun): void {
  const { applied, own } = run;
  for (let i = 1; i < applied.length; i += 1)
    expect(compareMarks(markOf(applied[i - 1]!), markOf(applied[i]!))).toBeLessThan(0);
  for (const { delivery, outcome, appliedBefore } of own) {
    if (appliedBefore === undefined || compareMarks(markOf(delivery.event), appliedBefore) > 0) continue;
    expect(outcome.outcome).toBe('discarded');
    expect(['duplicate-id', 'stale-time']).toContain(outcome.reason);
  }
  expect(new Set(applied.map((t) => t.id)).size).toBe(applied.length);
}
