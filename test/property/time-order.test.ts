/**
 * Time mode, as properties: histories stamped with strictly increasing times, delivered in any
 * order with redeliveries. Within the hold they converge on in-order processing (the valve's
 * cycle too); beyond it, nothing older than the last applied time is ever applied.
 */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { arrivalsWithinHold, timedArbitraries } from '../support/time-schedule.ts';
import {
  expectInOrderProcessing,
  expectNothingOlderApplied,
  runTimed,
  timedHistory,
} from '../support/time-runs.ts';

describe.each(['valve', 'order', 'customer'] as const)('time mode: %s', (aggregate) => {
  it('any arrival order within the hold, with redeliveries and sweeps at any time, converges on in-order processing', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ ...timedArbitraries, holdMs: fc.integer({ min: 1, max: 3_000 }) }),
        async ({ seed, arrivals, duplicates, sweeps, holdMs }) => {
          const history = timedHistory(aggregate, seed);
          const deliveries = arrivalsWithinHold(history, arrivals, duplicates, holdMs);
          // Sweeps also at the very end of each hold, where an earlier event may just be arriving.
          const atHoldEnds = deliveries.map((delivery) => delivery.at + holdMs);
          const run = await runTimed({ holdMs, deliveries, sweeps: [...sweeps, ...atHoldEnds] });
          expectInOrderProcessing(aggregate, history, run);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('beyond the hold (or without one), an event later than an applied one is stale-time and nothing older than the last applied time is applied', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({ ...timedArbitraries, holdMs: fc.constantFrom(0, 200, 1_000) }),
        async ({ seed, arrivals, duplicates, sweeps, holdMs }) => {
          // No bound on arrival: an event may come any time after the ones that follow it.
          const deliveries = arrivalsWithinHold(
            timedHistory(aggregate, seed),
            arrivals,
            duplicates,
            Infinity,
          );
          expectNothingOlderApplied(await runTimed({ holdMs, deliveries, sweeps }));
        },
      ),
      { numRuns: 150 },
    );
  });
});
