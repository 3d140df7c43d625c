/**
 * Time mode, as properties: histories stamped with strictly increasing times, delivered in any
 * order with redeliveries. Within the hold they converge on in-order processing (the valve's
 * cycle too); beyond it, nothing older than the last applied time is ever applied.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import machines from '../../machines/index.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { compareMarks, markOf, type TimedEvent, type TimeMark } from '../../src/core/time-order.ts';
import { customerSteps, orderSteps, toEnvelopes, valveSteps } from '../../src/demo/histories.ts';
import { inOrderReference } from '../../src/demo/in-order-reference.ts';
import { Random } from '../../src/demo/random.ts';
import { createGatekeeper, type Outcome } from '../../src/index.ts';
import { T0 } from '../support/timed.ts';
import { arrivalsWithinHold, type Delivery, schedule } from './support/time-schedule.ts';

const stepsFor = { order: orderSteps, customer: customerSteps, valve: valveSteps } as const;
type AggregateName = keyof typeof stepsFor;

/** One entity's legal history without seq, stamped one second apart: true order is time order. */
function timedHistory(aggregate: AggregateName, seed: number): TimedEvent[] {
  return toEnvelopes(aggregate, `k${seed}`, stepsFor[aggregate](new Random(seed))).map(
    ({ seq: _seq, ...event }, index) => ({
      ...event,
      time: new Date(T0 + (index + 1) * 1_000).toISOString(),
    }),
  );
}

/** Runs a schedule on a fresh gatekeeper, then lets every hold end and sweeps once more. */
async function run(holdMs: number, deliveries: Delivery[], sweeps: number[]) {
  const start = T0 + 3_600_000;
  const clock = new ManualClock(start);
  const gk = createGatekeeper({ machines, sweepIntervalMs: 0, clock, defaults: { holdMs } });
  const applied: TimedEvent[] = [];
  gk.subscribe({
    onTransition: (t) =>
      applied.push({ id: t.id, aggregate: t.aggregate, key: t.key, type: t.type, time: t.time as string }),
  });
  const own: { delivery: Delivery; outcome: Outcome; appliedBefore: TimeMark | undefined }[] = [];
  for (const step of schedule(deliveries, sweeps)) {
    clock.set(start + step.at);
    if (step.kind === 'sweep') {
      await gk.sweep();
      continue;
    }
    const last = applied[applied.length - 1];
    const appliedBefore = last === undefined ? undefined : markOf(last);
    own.push({
      delivery: step,
      outcome: (await gk.handle(structuredClone(step.event))).outcome,
      appliedBefore,
    });
  }
  clock.advance(holdMs + 1);
  await gk.sweep();
  const first = deliveries[0] as Delivery;
  const inspection = await gk.inspect(first.event.aggregate, first.event.key);
  await gk.close();
  return { applied, own, inspection };
}

const anyDeliveries = {
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  arrivals: fc.array(fc.nat({ max: 8_000 }), { minLength: 12, maxLength: 12 }),
  duplicates: fc.array(fc.record({ index: fc.nat(), delay: fc.nat({ max: 6_000 }) }), { maxLength: 4 }),
  sweeps: fc.array(fc.nat({ max: 12_000 }), { maxLength: 4 }),
};

describe.each(['valve', 'order', 'customer'] as const)('time mode: %s', (aggregate) => {
  it('any arrival order within the hold, with redeliveries and sweeps at any time, converges on in-order processing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ ...anyDeliveries, holdMs: fc.integer({ min: 1, max: 3_000 }) }),
        async ({ seed, arrivals, duplicates, sweeps, holdMs }) => {
          const history = timedHistory(aggregate, seed);
          const expected = inOrderReference(
            createGatekeeper({ machines }).aggregates.get(aggregate)!,
            history,
          );
          const deliveries = arrivalsWithinHold(history, arrivals, duplicates, holdMs);
          // Sweeps also at the very end of each hold, where an earlier event may just be arriving.
          const atHoldEnds = deliveries.map((delivery) => delivery.at + holdMs);
          const { applied, inspection } = await run(holdMs, deliveries, [...sweeps, ...atHoldEnds]);
          expect(applied.map((t) => t.id)).toEqual(expected.applied);
          expect(inspection?.state).toEqual(expected.state);
          expect(inspection?.buffered).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('beyond the hold (or without one), an event later than an applied one is stale-time and nothing older than the last applied time is applied', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ ...anyDeliveries, holdMs: fc.constantFrom(0, 200, 1_000) }),
        async ({ seed, arrivals, duplicates, sweeps, holdMs }) => {
          const history = timedHistory(aggregate, seed);
          // Arrival times with no bound at all: events may come any time after the ones that follow them.
          const deliveries = arrivalsWithinHold(history, arrivals, duplicates, Number.POSITIVE_INFINITY);
          const { applied, own } = await run(holdMs, deliveries, sweeps);
          for (let i = 1; i < applied.length; i += 1)
            expect(compareMarks(markOf(applied[i - 1]!), markOf(applied[i]!))).toBeLessThan(0);
          for (const { delivery, outcome, appliedBefore } of own) {
            if (appliedBefore === undefined || compareMarks(markOf(delivery.event), appliedBefore) > 0)
              continue;
            // Past on arrival: a redelivery of something already decided, or stale-time.
            expect(['duplicate-id', 'stale-time']).toContain(outcome.reason);
            expect(outcome.outcome).toBe('discarded');
          }
          expect(new Set(applied.map((t) => t.id)).size).toBe(applied.length);
        },
      ),
      { numRuns: 150 },
    );
  });
});
