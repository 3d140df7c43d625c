/**
 * Time mode on the example machines: unsequenced events with `time` are ordered by it, with and
 * without a hold. The valve (closed ⇄ open) is the case topology alone gets wrong.
 */
import { describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { InvalidRegistryError } from '../../../src/core/errors.ts';
import { createGatekeeper, type Gatekeeper } from '../../../src/index.ts';
import { T0, timed } from '../../support/timed.ts';

/** The clock starts an hour after the histories' first stamp. */
function gatekeeper(holdMs = 0): { gk: Gatekeeper; clock: ManualClock } {
  const clock = new ManualClock(T0 + 3_600_000);
  const gk = createGatekeeper({ machines, sweepIntervalMs: 0, clock, defaults: { holdMs } });
  return { gk, clock };
}

async function decide(gk: Gatekeeper, events: unknown[]): Promise<string[]> {
  const all: string[] = [];
  for (const input of events)
    for (const o of (await gk.handle(input)).outcomes) all.push(`${o.outcome}:${o.reason}:${o.id}`);
  return all;
}

const valve = timed('valve', 'v1');
const order = timed('order', 'o1');
const customer = timed('customer', 'c1');

describe('time mode without a hold (last writer wins)', () => {
  it('discards a late valve.opened from before the last valve.closed as stale-time instead of re-opening the valve', async () => {
    const { gk } = gatekeeper();
    const opened = valve(2, 'valve.opened', { flow: 40 });
    expect(
      await decide(gk, [valve(1, 'valve.installed', { site: 'n' }), opened, valve(3, 'valve.closed')]),
    ).toEqual(['applied:legal:v1@1', 'applied:legal:v1@2', 'applied:legal:v1@3']);
    // A second "opened" stamped before the close: topology alone would apply it (closed accepts opened).
    const late = await gk.handle({ ...opened, id: 'replayed-open' });
    expect(late.outcome).toMatchObject({ outcome: 'discarded', reason: 'stale-time', state: 'closed' });
    expect(late.outcome.detail).toBe(
      'time 2026-11-26T10:00:02.000Z (id replayed-open) is not after the last applied time 2026-11-26T10:00:03.000000000Z (id v1@3): a late or repeated event',
    );
    expect(await gk.inspect('valve', 'v1')).toMatchObject({
      state: 'closed',
      context: { cycles: 1 },
      lastTime: { at: '2026-11-26T10:00:03.000000000Z', id: 'v1@3' },
    });
  });

  it('applies the later of two out-of-order valve events and discards the earlier one as stale-time', async () => {
    const { gk } = gatekeeper();
    expect(
      await decide(gk, [
        valve(1, 'valve.installed', { site: 'n' }),
        valve(4, 'valve.opened', { flow: 60 }),
        valve(3, 'valve.closed'),
        valve(2, 'valve.opened', { flow: 10 }),
      ]),
    ).toEqual([
      'applied:legal:v1@1',
      'applied:legal:v1@4',
      'discarded:stale-time:v1@3',
      'discarded:stale-time:v1@2',
    ]);
    expect(await gk.inspect('valve', 'v1')).toMatchObject({
      state: 'open',
      context: { flow: 60, cycles: 1 },
    });
  });

  it('breaks a tie of equal times by id: the greater id is later, the smaller or equal one is stale-time', async () => {
    const { gk } = gatekeeper();
    expect(
      await decide(gk, [
        valve(1, 'valve.installed', { site: 'n' }),
        valve(2, 'valve.opened', { flow: 5 }, 'b'),
        valve(2, 'valve.closed', {}, 'a'),
        valve(2, 'valve.closed', {}, 'c'),
      ]),
    ).toEqual(['applied:legal:v1@1', 'applied:legal:b', 'discarded:stale-time:a', 'applied:legal:c']);
  });

  it('orders by the instant whatever offset the producer wrote', async () => {
    const { gk } = gatekeeper();
    const installed = valve(1, 'valve.installed', { site: 'n' });
    // 11:00:05+01:00 is 10:00:05Z: after the 10:00:04Z close, though it reads earlier as text.
    const opened = { ...valve(0, 'valve.opened', { flow: 5 }, 'offset'), time: '2026-11-26T11:00:05+01:00' };
    expect(
      await decide(gk, [installed, valve(3, 'valve.opened', { flow: 1 }), valve(4, 'valve.closed'), opened]),
    ).toEqual(['applied:legal:v1@1', 'applied:legal:v1@3', 'applied:legal:v1@4', 'applied:legal:offset']);
  });

  it('still lets topology buffer an event a reachable state accepts, and discards it as stale-time if a later event passes it', async () => {
    const { gk } = gatekeeper();
    expect(
      await decide(gk, [
        valve(3, 'valve.opened', { flow: 30 }),
        valve(0, 'valve.opened', { flow: 1 }, 'before-install'),
        valve(1, 'valve.installed', { site: 'n' }),
      ]),
    ).toEqual([
      'buffered:future-type:v1@3',
      'buffered:future-type:before-install',
      'applied:legal:v1@1',
      'discarded:stale-time:before-install',
      'applied:drained:v1@3',
    ]);
  });

  it('discards an order event only unreachable states accept, and one for a final entity', async () => {
    const { gk } = gatekeeper();
    expect(
      await decide(gk, [
        order(1, 'order.placed', { total: 10 }),
        order(2, 'order.paid', { amount: 10 }),
        order(3, 'order.shipped', { carrier: 'DHL' }),
        order(4, 'order.cancelled', { reason: 'late' }),
        order(5, 'order.delivered'),
        order(6, 'order.shipped', { carrier: 'UPS' }),
      ]),
    ).toEqual([
      'applied:legal:o1@1',
      'applied:legal:o1@2',
      'applied:legal:o1@3',
      'discarded:unreachable-type:o1@4',
      'applied:legal:o1@5',
      'discarded:entity-final:o1@6',
    ]);
  });

  it('orders a customer history by time, buffering billing details that arrived before the creation', async () => {
    const { gk } = gatekeeper();
    expect(
      await decide(gk, [
        customer(2, 'customer.billing-details.added', { iban: 'NL91ABNA0417164300' }),
        customer(1, 'customer.created', { name: 'Ann', email: 'ann@example.com' }),
        customer(3, 'customer.activated'),
      ]),
    ).toEqual([
      'buffered:future-type:c1@2',
      'applied:legal:c1@1',
      'applied:drained:c1@2',
      'applied:legal:c1@3',
    ]);
    expect((await gk.inspect('customer', 'c1'))?.state).toBe('active');
  });

  it('rejects a time further ahead of the clock than maxFutureMs, as a dead letter, and accepts one at the limit', async () => {
    const { gk, clock } = gatekeeper();
    const letters: string[] = [];
    gk.subscribe({ onRejected: (letter) => letters.push(letter.reason) });
    const now = clock.now();
    const at = (ms: number) => ({
      ...valve(0, 'valve.installed', { site: 'n' }, `at+${ms}`),
      time: new Date(now + ms).toISOString(),
    });
    const ahead = await gk.handle(at(60_001));
    expect(ahead.outcome).toMatchObject({ outcome: 'rejected', reason: 'future-time' });
    expect(ahead.outcome.detail).toContain('60001 ms ahead');
    expect(letters).toEqual(['future-time']);
    expect((await gk.handle(at(60_000))).outcome).toMatchObject({ outcome: 'applied', reason: 'legal' });
  });

  it('rejects a time without an offset as an invalid envelope', async () => {
    const { gk } = gatekeeper();
    const local = { ...valve(1, 'valve.installed', { site: 'n' }), time: '2026-11-26T10:00:01' };
    expect((await gk.handle(local)).outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'invalid-envelope',
    });
  });

  it('leaves sequenced events to seq: their time is carried through, not compared', async () => {
    const { gk } = gatekeeper();
    const installed = { ...valve(9, 'valve.installed', { site: 'n' }), seq: 1 };
    const opened = { ...valve(1, 'valve.opened', { flow: 3 }), seq: 2 };
    expect(await decide(gk, [installed, opened])).toEqual(['applied:legal:v1@9', 'applied:legal:v1@1']);
    expect((await gk.inspect('valve', 'v1'))?.lastTime).toBeUndefined();
  });
});

describe('time mode with a hold (holdMs)', () => {
  it('applies a valve cycle that arrived backwards in true order once the holds are over', async () => {
    const { gk, clock } = gatekeeper(1_000);
    await decide(gk, [valve(1, 'valve.installed', { site: 'n' })]);
    clock.advance(1_001);
    // True order: opened@4, closed@5, opened@6. Without the hold opened@6 wins and the others are stale.
    const arrivals = [
      valve(6, 'valve.opened', { flow: 60 }),
      valve(5, 'valve.closed'),
      valve(4, 'valve.opened', { flow: 40 }),
    ];
    const outcomes: string[] = [];
    for (const input of arrivals) {
      outcomes.push(...(await decide(gk, [input])));
      clock.advance(300);
    }
    expect(outcomes).toEqual([
      'buffered:time-hold:v1@6',
      'applied:drained:v1@1',
      'buffered:time-hold:v1@5',
      'buffered:time-hold:v1@4',
    ]);
    // opened@6's hold is over, but opened@4 (earlier in event time) is still held: nothing moves.
    expect(await gk.sweep()).toEqual([]);
    clock.set(clock.now() - 300 + 1_001);
    expect((await gk.sweep()).map((o) => `${o.outcome}:${o.reason}:${o.id}`)).toEqual([
      'applied:drained:v1@4',
      'applied:drained:v1@5',
      'applied:drained:v1@6',
    ]);
    expect(await gk.inspect('valve', 'v1')).toMatchObject({
      state: 'open',
      context: { flow: 60, cycles: 2 },
      buffered: [],
    });
  });

  it('without the hold the same arrivals keep only the last writer', async () => {
    const { gk } = gatekeeper(0);
    expect(
      await decide(gk, [
        valve(1, 'valve.installed', { site: 'n' }),
        valve(6, 'valve.opened', { flow: 60 }),
        valve(5, 'valve.closed'),
        valve(4, 'valve.opened', { flow: 40 }),
      ]),
    ).toEqual([
      'applied:legal:v1@1',
      'applied:legal:v1@6',
      'discarded:stale-time:v1@5',
      'discarded:stale-time:v1@4',
    ]);
    expect((await gk.inspect('valve', 'v1'))?.context).toMatchObject({ cycles: 1 });
  });

  it('releases held events on the next event of the entity, and discards one arriving later than the hold after its successor as stale-time', async () => {
    const { gk, clock } = gatekeeper(1_000);
    expect(
      await decide(gk, [valve(1, 'valve.installed', { site: 'n' }), valve(3, 'valve.opened', { flow: 3 })]),
    ).toEqual(['buffered:time-hold:v1@1', 'buffered:time-hold:v1@3']);
    clock.advance(1_001);
    // The next arrival releases both (in event-time order) and is itself held.
    expect(await decide(gk, [valve(4, 'valve.closed')])).toEqual([
      'buffered:time-hold:v1@4',
      'applied:drained:v1@1',
      'applied:drained:v1@3',
    ]);
    // opened@2 follows opened@3 by more than the hold: it is past.
    expect(await decide(gk, [valve(2, 'valve.opened', { flow: 2 })])).toEqual(['discarded:stale-time:v1@2']);
  });

  it('keeps an event in time for an earlier one arriving exactly holdMs after it, even with a sweep at that instant', async () => {
    const { gk, clock } = gatekeeper(1_000);
    await decide(gk, [valve(1, 'valve.installed', { site: 'n' })]);
    clock.advance(1_001);
    await gk.sweep();
    await decide(gk, [valve(3, 'valve.closed')]);
    clock.advance(1_000);
    expect(await gk.sweep()).toEqual([]);
    expect(await decide(gk, [valve(2, 'valve.opened', { flow: 7 })])).toEqual(['buffered:time-hold:v1@2']);
    clock.advance(1);
    // closed@3 is released now, but opened@2 is earlier and still held: both wait for it.
    expect(await gk.sweep()).toEqual([]);
    clock.advance(1_000);
    expect((await gk.sweep()).map((o) => o.id)).toEqual(['v1@2', 'v1@3']);
  });

  it('discards a redelivery of a held event by its id, and takes the first copy in time order', async () => {
    const { gk, clock } = gatekeeper(500);
    const installed = valve(1, 'valve.installed', { site: 'n' });
    expect(await decide(gk, [valve(2, 'valve.opened', { flow: 9 }), installed, installed])).toEqual([
      'buffered:time-hold:v1@2',
      'buffered:time-hold:v1@1',
      'discarded:duplicate-id:v1@1',
    ]);
    clock.advance(501);
    expect((await gk.sweep()).map((o) => o.id)).toEqual(['v1@1', 'v1@2']);
  });

  it('orders an order history that arrived shuffled, cancellation included', async () => {
    const { gk, clock } = gatekeeper(2_000);
    await decide(gk, [
      order(3, 'order.cancelled', { reason: 'changed mind' }),
      order(1, 'order.placed', { total: 10 }),
      order(2, 'order.paid', { amount: 10 }),
    ]);
    clock.advance(2_001);
    expect((await gk.sweep()).map((o) => `${o.outcome}:${o.id}`)).toEqual([
      'applied:o1@1',
      'applied:o1@2',
      'applied:o1@3',
    ]);
    expect((await gk.inspect('order', 'o1'))?.state).toBe('cancelled');
  });

  it('applies a customer history in time order that arrived last-first within the hold (park policy untouched)', async () => {
    const { gk, clock } = gatekeeper(1_000);
    for (const input of [
      customer(4, 'customer.closed'),
      customer(3, 'customer.activated'),
      customer(2, 'customer.billing-details.added', { iban: 'NL91ABNA0417164300' }),
      customer(1, 'customer.created', { name: 'Ann', email: 'ann@example.com' }),
    ]) {
      expect((await gk.handle(input)).outcome.reason).toBe('time-hold');
      clock.advance(400);
    }
    clock.advance(601);
    expect((await gk.sweep()).map((o) => `${o.outcome}:${o.id}`)).toEqual([
      'applied:c1@1',
      'applied:c1@2',
      'applied:c1@3',
      'applied:c1@4',
    ]);
    expect(await gk.inspect('customer', 'c1')).toMatchObject({ state: 'closed', parked: undefined });
  });

  it('discards a timed event for a final valve at once instead of holding it', async () => {
    const { gk, clock } = gatekeeper(100);
    await decide(gk, [valve(1, 'valve.installed', { site: 'n' }), valve(2, 'valve.removed')]);
    clock.advance(101);
    await gk.sweep();
    expect(await decide(gk, [valve(3, 'valve.opened', { flow: 1 })])).toEqual([
      'discarded:entity-final:v1@3',
    ]);
  });

  it('refuses a hold that is not below the stall limit, and a negative one', () => {
    expect(() =>
      createGatekeeper({ machines, sweepIntervalMs: 0, defaults: { holdMs: 1_000, stallAfterMs: 1_000 } }),
    ).toThrow(InvalidRegistryError);
    expect(() =>
      createGatekeeper({ machines: { valve: { ...machines.valve, holdMs: -1 } }, sweepIntervalMs: 0 }),
    ).toThrow(/holdMs/);
  });
});
