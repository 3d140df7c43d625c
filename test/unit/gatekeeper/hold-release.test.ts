/**
 * The sweeper releases held timed events on its own timer: an entity whose events wait out their
 * hold gets them applied even when no further event arrives for it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { createGatekeeper, type AppliedTransition, type Gatekeeper } from '../../../src/index.ts';
import { T0, timed } from '../../support/timed.ts';

let gk: Gatekeeper | undefined;
afterEach(async () => {
  await gk?.close();
  gk = undefined;
});

describe('hold release by the sweeper', () => {
  it('applies held valve events in event-time order once the clock passes their hold, with no further traffic', async () => {
    const clock = new ManualClock(T0 + 60_000);
    gk = createGatekeeper({ machines, clock, sweepIntervalMs: 10, defaults: { holdMs: 5_000 } });
    const applied: AppliedTransition[] = [];
    const allThree = new Promise<void>((resolve) =>
      gk?.subscribe({
        onTransition: (transition) => {
          applied.push(transition);
          if (applied.length === 3) resolve();
        },
      }),
    );
    const valve = timed('valve', 'v1');
    for (const input of [
      valve(3, 'valve.closed'),
      valve(2, 'valve.opened', { flow: 9 }),
      valve(1, 'valve.installed', { site: 'n' }),
    ])
      expect((await gk.handle(input)).outcome.reason).toBe('time-hold');
    // The sweeper runs every 10 ms of real time, but the hold is on the gatekeeper's clock: until
    // it moves, nothing is due.
    expect(await gk.sweep()).toEqual([]);
    expect(applied).toEqual([]);

    clock.advance(5_001);
    await allThree;
    expect(applied.map((t) => t.id)).toEqual(['v1@1', 'v1@2', 'v1@3']);
    expect(await gk.inspect('valve', 'v1')).toMatchObject({ state: 'closed', buffered: [] });
  });

  it('releases a due entity even behind more than a sweep’s worth of entities stuck on events that wait for the machine', async () => {
    const clock = new ManualClock(T0 + 60_000);
    gk = createGatekeeper({ machines, clock, sweepIntervalMs: 0, defaults: { holdMs: 1_000 } });
    // 1,001 orders paid but never placed: released after the hold, then they wait (future-type)
    // for a placed that never comes. They are the oldest entries of the store's buffer index.
    const stuck = Array.from({ length: 1_001 }, (_, i) =>
      timed('order', `stuck-${i}`)(2, 'order.paid', { amount: 1 }),
    );
    await gk.handleBatch(stuck);
    clock.advance(1_001);
    expect((await gk.sweep()).filter((o) => o.outcome !== 'buffered')).toEqual([]);
    const valve = timed('valve', 'fresh');
    await gk.handle(valve(2, 'valve.opened', { flow: 1 }));
    await gk.handle(valve(1, 'valve.installed', { site: 'n' }));
    clock.advance(1_001);
    expect((await gk.sweep()).map((o) => `${o.outcome}:${o.id}`)).toEqual([
      'applied:fresh@1',
      'applied:fresh@2',
    ]);
  });
});
