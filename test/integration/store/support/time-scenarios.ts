/**
 * Time mode on every store (memory, standalone Redis, Redis Cluster): the last applied time and
 * the held events live in the store, so a new gatekeeper goes on where the last one stopped.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import machines from '../../../../machines/index.ts';
import { ManualClock } from '../../../../src/core/clock.ts';
import { createGatekeeper, type Gatekeeper } from '../../../../src/index.ts';
import { T0, timed } from '../../../support/timed.ts';
import { arrivalsWithinHold, timedArbitraries } from '../../../support/time-schedule.ts';
import {
  expectInOrderProcessing,
  expectNothingOlderApplied,
  runTimed,
  timedHistory,
} from '../../../support/time-runs.ts';
import type { StoreHarness } from './harness.ts';

export function defineTimeScenarios(harness: StoreHarness, options: { propertyRuns?: number } = {}): void {
  let gatekeepers: Gatekeeper[] = [];
  let clock = new ManualClock();

  beforeEach((context) => {
    harness.begin(context.task.name);
    clock = new ManualClock(T0 + 3_600_000);
  });
  afterEach(async () => {
    await Promise.all(gatekeepers.map((gatekeeper) => gatekeeper.close()));
    gatekeepers = [];
    await harness.end();
  });

  const open = (holdMs = 0): Gatekeeper => {
    const gk = createGatekeeper({
      machines,
      sweepIntervalMs: 0,
      clock,
      defaults: { holdMs },
      store: harness.open(),
    });
    gatekeepers.push(gk);
    return gk;
  };
  const kinds = (outcomes: { outcome: string; reason: string; id: string | null }[]) =>
    outcomes.map((o) => `${o.outcome}:${o.reason}:${o.id}`);
  const valve = timed('valve', 'v1');

  it('keeps the last applied time in the store: a new gatekeeper discards a late valve.opened as stale-time', async () => {
    const first = open();
    for (const input of [
      valve(1, 'valve.installed', { site: 'n' }),
      valve(2, 'valve.opened', { flow: 4 }),
      valve(3, 'valve.closed'),
    ])
      await first.handle(input);
    await first.close();

    const second = open();
    expect((await second.inspect('valve', 'v1'))?.lastTime).toEqual({
      at: '2026-11-26T10:00:03.000000000Z',
      id: 'v1@3',
    });
    expect(kinds((await second.handle(valve(2, 'valve.opened', { flow: 4 }, 'late'))).outcomes)).toEqual([
      'discarded:stale-time:late',
    ]);
    expect(kinds((await second.handle(valve(4, 'valve.opened', { flow: 8 }))).outcomes)).toEqual([
      'applied:legal:v1@4',
    ]);
    expect(await second.inspect('valve', 'v1')).toMatchObject({
      state: 'open',
      context: { flow: 8, cycles: 2 },
      lastTime: { at: '2026-11-26T10:00:04.000000000Z', id: 'v1@4' },
    });
  });

  it('keeps held events in the store, and a new gatekeeper’s sweep releases them in event-time order with no further traffic', async () => {
    const first = open(1_000);
    for (const input of [
      valve(3, 'valve.closed'),
      valve(2, 'valve.opened', { flow: 4 }),
      valve(1, 'valve.installed', { site: 'n' }),
    ])
      expect((await first.handle(input)).outcome.reason).toBe('time-hold');
    await first.close();

    const second = open(1_000);
    clock.advance(1_000);
    expect(await second.sweep()).toEqual([]);
    clock.advance(1);
    expect(kinds(await second.sweep())).toEqual([
      'applied:drained:v1@1',
      'applied:drained:v1@2',
      'applied:drained:v1@3',
    ]);
    expect(await second.inspect('valve', 'v1')).toMatchObject({
      state: 'closed',
      buffered: [],
      context: { cycles: 1 },
    });
    expect(await second.store.stalled(clock.now() + 1, 10)).toEqual([]);
  });

  let run = 0;
  const storeForRuns = () => harness.open();

  it('converges on in-order processing for arrivals within the hold, across a restart midway (valve and order)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('valve' as const, 'order' as const),
        fc.record({
          ...timedArbitraries,
          holdMs: fc.integer({ min: 1, max: 3_000 }),
          restartAfter: fc.nat({ max: 16 }),
        }),
        async (aggregate, { seed, arrivals, duplicates, sweeps, holdMs, restartAfter }) => {
          const history = timedHistory(aggregate, seed, `k${seed}-${(run += 1)}`);
          const deliveries = arrivalsWithinHold(history, arrivals, duplicates, holdMs);
          const atHoldEnds = deliveries.map((delivery) => delivery.at + holdMs);
          const result = await runTimed({
            holdMs,
            deliveries,
            sweeps: [...sweeps, ...atHoldEnds],
            store: storeForRuns,
            restartAfter,
          });
          expectInOrderProcessing(aggregate, history, result);
        },
      ),
      { numRuns: options.propertyRuns ?? 30 },
    );
  });

  it('never applies anything older than the last applied time, whatever the arrival order, across a restart midway', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('valve' as const, 'order' as const),
        fc.record({
          ...timedArbitraries,
          holdMs: fc.constantFrom(0, 500),
          restartAfter: fc.nat({ max: 16 }),
        }),
        async (aggregate, { seed, arrivals, duplicates, sweeps, holdMs, restartAfter }) => {
          const history = timedHistory(aggregate, seed, `k${seed}-${(run += 1)}`);
          const deliveries = arrivalsWithinHold(history, arrivals, duplicates, Infinity);
          expectNothingOlderApplied(
            await runTimed({ holdMs, deliveries, sweeps, store: storeForRuns, restartAfter }),
          );
        },
      ),
      { numRuns: options.propertyRuns ?? 30 },
    );
  });
}
