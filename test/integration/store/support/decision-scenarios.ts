/**
 * The decision behaviour of the gatekeeper, written once and run against every store (memory,
 * standalone Redis, Redis Cluster). Each scenario goes through the public gatekeeper API and, where
 * it matters, restarts the gatekeeper on the same store so the state really comes from the store.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, expect, it } from 'vitest';
import machines, { customerMachine, orderMachine, valveMachine } from '../../../../machines/index.ts';
import { customerPayloads } from '../../../../machines/customer.ts';
import { orderPayloads } from '../../../../machines/order.ts';
import { valvePayloads } from '../../../../machines/valve.ts';
import { ManualClock } from '../../../../src/core/clock.ts';
import { OperatorActionError } from '../../../../src/core/errors.ts';
import type { StallPolicy } from '../../../../src/core/aggregate.ts';
import { createGatekeeper, type CreateGatekeeperOptions, type Gatekeeper } from '../../../../src/index.ts';
import type { EntityStore } from '../../../../src/store/entity-store.ts';
import type { StoreHarness, StoreSettings } from './harness.ts';

type Payload = Record<string, unknown>;

/** An event envelope; the id defaults to `<key>-<seq>` (or a type-based id without seq). */
export function ev(
  aggregate: string,
  key: string,
  seq: number | undefined,
  type: string,
  payload: Payload = {},
  id?: string,
) {
  return {
    id: id ?? `${key}-${seq ?? type}`,
    aggregate,
    key,
    ...(seq === undefined ? {} : { seq }),
    type,
    payload,
  };
}

const order = (key: string, seq: number | undefined, type: string, payload: Payload = {}, id?: string) =>
  ev('order', key, seq, `order.${type}`, payload, id);

export function defineDecisionScenarios(
  harness: StoreHarness,
  options: { propertyRuns?: number } = {},
): void {
  let gatekeepers: Gatekeeper[] = [];

  beforeEach((context) => harness.begin(context.task.name));
  afterEach(async () => {
    await Promise.all(gatekeepers.map((gatekeeper) => gatekeeper.close()));
    gatekeepers = [];
    await harness.end();
  });

  const open = (
    settings: StoreSettings = {},
    extra: Partial<CreateGatekeeperOptions> = {},
  ): { gk: Gatekeeper; store: EntityStore } => {
    const store = harness.open(settings);
    const gk = createGatekeeper({ machines, sweepIntervalMs: 0, ...extra, store });
    gatekeepers.push(gk);
    return { gk, store };
  };
  const kinds = (result: { outcomes: { outcome: string; reason: string }[] }) =>
    result.outcomes.map((o) => `${o.outcome}/${o.reason}`);

  it('applies in-order events, and a new gatekeeper on the same store continues from the stored state', async () => {
    const first = open();
    await first.gk.handle(order('o1', 1, 'placed', { total: 10 }));
    expect(kinds(await first.gk.handle(order('o1', 2, 'paid', { amount: 10 })))).toEqual(['applied/legal']);
    await first.gk.close();

    const second = open();
    const shipped = await second.gk.handle(order('o1', 3, 'shipped', { carrier: 'dhl' }));
    expect(shipped.outcome).toMatchObject({ outcome: 'applied', from: 'paid', state: 'shipped' });
    expect(await second.gk.inspect('order', 'o1')).toMatchObject({
      state: 'shipped',
      context: { total: 10, paid: 10 },
      lastSeq: 3,
      version: 3,
      buffered: [],
      status: 'active',
    });
  });

  it('buffers events ahead of their seq and drains them in seq order once the gap closes, across a restart', async () => {
    const first = open();
    expect(kinds(await first.gk.handle(order('o1', 3, 'shipped')))).toEqual(['buffered/seq-gap']);
    expect(kinds(await first.gk.handle(order('o1', 2, 'paid', { amount: 7 })))).toEqual(['buffered/seq-gap']);
    const waiting = await first.gk.inspect('order', 'o1');
    expect(waiting?.buffered.map((entry) => entry.event.seq)).toEqual([2, 3]);
    expect((await first.store.stalled(Date.now() + 1, 10)).map((s) => s.key)).toEqual(['o1']);
    await first.gk.close();

    const second = open();
    const result = await second.gk.handle(order('o1', 1, 'placed', { total: 7 }));
    expect(kinds(result)).toEqual(['applied/legal', 'applied/drained', 'applied/drained']);
    expect(result.transitions.map((t) => t.state)).toEqual(['placed', 'paid', 'shipped']);
    expect((await second.gk.inspect('order', 'o1'))?.buffered).toEqual([]);
    expect(await second.store.stalled(Date.now() + 1, 10)).toEqual([]);
  });

  it('discards a redelivered event, a stale seq and a second event for a seq already waiting', async () => {
    const { gk } = open();
    await gk.handle(order('o1', 1, 'placed', { total: 5 }));
    expect((await gk.handle(order('o1', 1, 'placed', { total: 5 }))).outcome.outcome).toBe('discarded');
    expect((await gk.handle(order('o1', 1, 'placed', { total: 5 }, 'other-id'))).outcome).toMatchObject({
      outcome: 'discarded',
      reason: 'stale-seq',
    });
    await gk.handle(order('o1', 3, 'shipped'));
    expect((await gk.handle(order('o1', 3, 'shipped', {}, 'another-id'))).outcome).toMatchObject({
      outcome: 'discarded',
      reason: 'duplicate-seq',
    });
    expect((await gk.handle(order('o1', 3, 'shipped'))).outcome.outcome).toBe('discarded');
    expect((await gk.inspect('order', 'o1'))?.buffered.map((b) => b.event.id)).toEqual(['o1-3']);
  });

  it('keeps unsequenced future events in arrival order across a restart and applies them in that order', async () => {
    const first = open();
    const valve = (type: string, payload: Payload, id: string) =>
      ev('valve', 'v1', undefined, `valve.${type}`, payload, id);
    expect(kinds(await first.gk.handle(valve('opened', { flow: 10 }, 'a')))).toEqual([
      'buffered/future-type',
    ]);
    expect(kinds(await first.gk.handle(valve('closed', {}, 'b')))).toEqual(['buffered/future-type']);
    await first.gk.close();
    const second = open();
    await second.gk.handle(valve('opened', { flow: 20 }, 'c'));
    const installed = await second.gk.handle(valve('installed', { site: 'north' }, 'd'));
    expect(installed.transitions.map((t) => t.id)).toEqual(['d', 'a', 'b', 'c']);
    expect(await second.gk.inspect('valve', 'v1')).toMatchObject({
      state: 'open',
      context: { flow: 20, cycles: 2 },
      buffered: [],
    });
  });

  it('discards unsequenced events whose type can no longer happen, and events for an entity in a final state', async () => {
    const { gk } = open();
    await gk.handle(order('o1', undefined, 'placed', { total: 3 }, 'p'));
    await gk.handle(order('o1', undefined, 'cancelled', {}, 'c'));
    expect((await gk.handle(order('o1', undefined, 'paid', { amount: 3 }, 'x'))).outcome).toMatchObject({
      outcome: 'discarded',
      reason: 'entity-final',
    });
    await gk.handle(order('o2', undefined, 'placed', { total: 3 }, 'p2'));
    await gk.handle(order('o2', undefined, 'paid', { amount: 3 }, 'q2'));
    expect((await gk.handle(order('o2', undefined, 'placed', { total: 3 }, 'r2'))).outcome).toMatchObject({
      outcome: 'discarded',
      reason: 'unreachable-type',
    });
  });

  it('rejects an illegal event at its seq, dead-letters it once and moves past it (skip policy)', async () => {
    const { gk, store } = open();
    await gk.handle(order('o1', 1, 'placed', { total: 10 }));
    expect((await gk.handle(order('o1', 2, 'paid', { amount: 5 }))).outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'guard-refused',
    });
    expect((await gk.handle(order('o1', 3, 'cancelled'))).outcome).toMatchObject({
      outcome: 'applied',
      state: 'cancelled',
    });
    const letters = await store.readDeadLetters(10);
    expect(letters.map((l) => [l.value.event?.id, l.value.reason])).toEqual([['o1-2', 'guard-refused']]);
    expect(await store.readDeadLetters(10)).toEqual(letters);
    await store.ackDeadLetters(letters.map((l) => l.id));
    expect(await store.readDeadLetters(10)).toEqual([]);
  });

  it('parks an entity on an illegal event, holds what follows, and lets an operator retry and skip it after a restart', async () => {
    const first = open();
    const customer = (seq: number, type: string, payload: Payload = {}) =>
      ev('customer', 'c1', seq, `customer.${type}`, payload);
    await first.gk.handle(customer(1, 'created', { name: 'Ada', email: 'ada@example.com' }));
    expect((await first.gk.handle(customer(2, 'activated'))).outcome).toMatchObject({
      outcome: 'rejected',
      parked: true,
    });
    expect(
      kinds(await first.gk.handle(customer(3, 'billing-details.added', { iban: 'DE89370400440532013000' }))),
    ).toEqual(['buffered/entity-parked']);
    expect(await first.gk.parked()).toEqual([{ aggregate: 'customer', key: 'c1' }]);
    await first.gk.close();

    const second = open();
    expect(await second.gk.inspect('customer', 'c1')).toMatchObject({
      state: 'created',
      parked: { event: { seq: 2 } },
    });
    expect((await second.gk.retry('customer', 'c1')).map((o) => `${o.outcome}/${o.reason}`)).toEqual([
      'rejected/illegal-at-seq',
    ]);
    expect(await second.gk.parked()).toEqual([{ aggregate: 'customer', key: 'c1' }]);
    const skipped = await second.gk.skip('customer', 'c1');
    expect(skipped.map((o) => `${o.outcome}/${o.state as string}`)).toEqual(['applied/billable']);
    expect(await second.gk.parked()).toEqual([]);
    await expect(second.gk.skip('customer', 'c1')).rejects.toBeInstanceOf(OperatorActionError);
  });

  it('puts where each input came from on its dead letter, also when it waited in the store and was rejected by a later process', async () => {
    const at = (offset: number) => ({ topic: 'in', partition: 3, offset: String(offset) });
    const first = open();
    await first.gk.handle(order('o1', 1, 'placed', { total: 10 }), at(1));
    // Waits for seq 2, and is illegal once its turn comes (an order cannot be delivered before shipping).
    await first.gk.handle(order('o1', 3, 'delivered'), at(3));
    await first.gk.handle({ nonsense: true }, at(4));
    await first.gk.close();

    const second = open();
    const drained = await second.gk.handle(order('o1', 2, 'paid', { amount: 10 }), at(2));
    expect(kinds(drained)).toEqual(['applied/legal', 'rejected/illegal-at-seq']);
    const letters = (await second.store.readDeadLetters(10)).map((l) => l.value);
    expect(letters.map((l) => [l.reason, l.source])).toEqual([
      ['invalid-envelope', at(4)],
      ['illegal-at-seq', at(3)],
    ]);
  });

  it('rejects events beyond maxBuffered as buffer-full', async () => {
    const store = harness.open();
    const gk = createGatekeeper({
      machines: { order: { machine: orderMachine, payloads: orderPayloads, maxBuffered: 2 } },
      store,
      sweepIntervalMs: 0,
    });
    gatekeepers.push(gk);
    await gk.handle(order('o1', 3, 'shipped'));
    await gk.handle(order('o1', 4, 'delivered'));
    expect((await gk.handle(order('o1', 5, 'cancelled'))).outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'buffer-full',
    });
    expect((await gk.inspect('order', 'o1'))?.buffered).toHaveLength(2);
  });

  const stallGatekeeper = (onStall: StallPolicy, clock: ManualClock) => {
    const store = harness.open();
    const gk = createGatekeeper({
      machines: { order: { machine: orderMachine, payloads: orderPayloads, onStall, stallAfterMs: 1_000 } },
      store,
      clock,
      sweepIntervalMs: 0,
    });
    gatekeepers.push(gk);
    return { gk, store };
  };

  it('reports an entity as stalled only once its oldest buffered event is older than the limit (keep policy)', async () => {
    const clock = new ManualClock(1_000_000);
    const { gk } = stallGatekeeper('keep', clock);
    await gk.handle(order('o1', 3, 'shipped'));
    clock.advance(1_000);
    expect(await gk.stalled()).toEqual([]);
    clock.advance(1);
    expect(await gk.stalled()).toEqual([
      { aggregate: 'order', key: 'o1', oldestBufferedAt: 1_000_000, ageMs: 1_001, stallAfterMs: 1_000 },
    ]);
    expect(await gk.sweep()).toEqual([]);
    expect(await gk.stalled()).toHaveLength(1);
  });

  it('dead-letters the waiting events of a stalled entity on sweep (dead-letter policy)', async () => {
    const clock = new ManualClock(1_000_000);
    const { gk, store } = stallGatekeeper('dead-letter', clock);
    await gk.handle(order('o1', 3, 'shipped'));
    clock.advance(5_000);
    expect((await gk.sweep()).map((o) => `${o.outcome}/${o.reason}/${o.id}`)).toEqual([
      'rejected/stalled/o1-3',
    ]);
    expect(await gk.stalled()).toEqual([]);
    expect((await gk.inspect('order', 'o1'))?.buffered).toEqual([]);
    expect((await store.readDeadLetters(10)).map((l) => l.value.reason)).toEqual(['stalled']);
  });

  it('skips the gap of a stalled entity on sweep and drains what waited (skip-gap policy)', async () => {
    const clock = new ManualClock(1_000_000);
    const { gk } = stallGatekeeper('skip-gap', clock);
    await gk.handle(order('o1', 1, 'placed', { total: 4 }));
    await gk.handle(order('o1', 3, 'paid', { amount: 4 }));
    clock.advance(2_000);
    expect((await gk.sweep()).map((o) => `${o.outcome}/${o.state as string}`)).toEqual(['applied/paid']);
    expect(await gk.inspect('order', 'o1')).toMatchObject({ state: 'paid', lastSeq: 3, buffered: [] });
    expect(await gk.stalled()).toEqual([]);
  });

  it('keeps invalid envelopes and unknown aggregates as dead letters until acknowledged', async () => {
    const { gk, store } = open();
    expect((await gk.handle({ nonsense: true })).outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'invalid-envelope',
    });
    expect((await gk.handle(ev('nope', 'k', 1, 'x.y'))).outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'unknown-aggregate',
    });
    const letters = await store.readDeadLetters(10);
    expect(letters.map((l) => l.value.reason).sort()).toEqual(['invalid-envelope', 'unknown-aggregate']);
    expect(letters.find((l) => l.value.reason === 'invalid-envelope')?.value.raw).toEqual({ nonsense: true });
    await store.ackDeadLetters([letters[0]!.id]);
    expect(await store.readDeadLetters(10)).toEqual([letters[1]]);
    await store.ackDeadLetters([letters[1]!.id, 'not-an-id']);
    expect(await store.readDeadLetters(10)).toEqual([]);
  });

  it('keeps applied transitions in the outbox, in per-entity order, until acknowledged', async () => {
    const { gk, store } = open();
    for (const key of ['a', 'b', 'c']) {
      await gk.handle(order(key, 2, 'paid', { amount: 1 }));
      await gk.handle(order(key, 1, 'placed', { total: 1 }));
      await gk.handle(order(key, 3, 'shipped'));
    }
    const rows = await store.readOutbox(100);
    expect(rows).toHaveLength(9);
    for (const key of ['a', 'b', 'c'])
      expect(rows.filter((r) => r.value.key === key).map((r) => r.value.seq)).toEqual([1, 2, 3]);
    expect(await store.readOutbox(100)).toEqual(rows);
    expect(await store.readOutbox(4)).toEqual(rows.slice(0, 4));
    await store.ackOutbox(rows.slice(0, 4).map((r) => r.id));
    expect(await store.readOutbox(100)).toEqual(rows.slice(4));
    await store.ackOutbox(rows.map((r) => r.id));
    expect(await store.readOutbox(100)).toEqual([]);
  });

  it('keeps a bounded per-entity history, newest last', async () => {
    const { gk } = open({ historyLimit: 3 });
    await gk.handle(order('o1', 1, 'placed', { total: 2 }));
    await gk.handle(order('o1', 2, 'paid', { amount: 2 }));
    await gk.handle(order('o1', 2, 'paid', { amount: 2 }, 'dup'));
    await gk.handle(order('o1', 3, 'shipped'));
    const history = await gk.history('order', 'o1');
    expect(history.map((h) => `${h.id}/${h.outcome}`)).toEqual([
      'o1-2/applied',
      'dup/discarded',
      'o1-3/applied',
    ]);
  });

  it('fences two gatekeepers on one store: the stale one reloads, and no transition is applied twice', async () => {
    const a = open();
    const b = open();
    await a.gk.handle(order('o1', 1, 'placed', { total: 9 }));
    expect((await b.gk.handle(order('o1', 2, 'paid', { amount: 9 }))).outcome.outcome).toBe('applied');
    // a still holds version 1 in memory: its commit conflicts, it reloads and sees seq 2 was applied.
    expect((await a.gk.handle(order('o1', 2, 'paid', { amount: 9 }))).outcome.outcome).toBe('discarded');
    expect((await a.gk.handle(order('o1', 3, 'shipped'))).outcome.outcome).toBe('applied');
    const events = [1, 2, 3, 4].map((seq) =>
      order(
        'o2',
        seq,
        ['placed', 'paid', 'shipped', 'delivered'][seq - 1] as string,
        seq === 1 ? { total: 1 } : seq === 2 ? { amount: 1 } : {},
      ),
    );
    const shuffled = [events[2]!, events[0]!, events[3]!, events[1]!];
    await Promise.all([
      ...shuffled.map((e) => a.gk.handle(e)),
      ...[...shuffled].reverse().map((e) => b.gk.handle(e)),
    ]);
    const rows = (await a.store.readOutbox(100)).map((r) => r.value);
    expect(rows.filter((r) => r.key === 'o1').map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows.filter((r) => r.key === 'o2').map((r) => r.seq)).toEqual([1, 2, 3, 4]);
    expect((await b.gk.inspect('order', 'o2'))?.state).toBe('delivered');
  });

  it('inspects state, context, seq, version, buffer, parked event and recent rejections', async () => {
    const { gk } = open();
    expect(await gk.inspect('order', 'missing')).toBeUndefined();
    await gk.handle(order('o1', 1, 'placed', { total: 3 }));
    await gk.handle(order('o1', 2, 'paid', { amount: 4 }));
    await gk.handle(order('o1', 4, 'delivered'));
    expect(await gk.inspect('order', 'o1')).toMatchObject({
      aggregate: 'order',
      key: 'o1',
      state: 'placed',
      context: { total: 3, paid: 0 },
      status: 'active',
      lastSeq: 2,
      version: 3,
      buffered: [{ event: { id: 'o1-4', seq: 4 } }],
      parked: undefined,
      recentRejections: [{ id: 'o1-2', reason: 'guard-refused' }],
    });
  });

  it('converges on the in-order result for any permutation, with duplicates, of legal histories', async () => {
    const { gk, store } = open({ historyLimit: 0 });
    const histories = {
      order: [
        ['order.placed', { total: 5 }],
        ['order.paid', { amount: 5 }],
        ['order.shipped', {}],
        ['order.delivered', {}],
      ],
      valve: [
        ['valve.installed', { site: 's' }],
        ['valve.opened', { flow: 30 }],
        ['valve.closed', {}],
        ['valve.opened', { flow: 60 }],
        ['valve.closed', {}],
        ['valve.removed', {}],
      ],
    } as const;
    const finals = { order: 'delivered', valve: 'removed' };
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('order' as const, 'valve' as const),
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.array(fc.nat(), { maxLength: 4 }),
        async (aggregate, seed, duplicates) => {
          const key = `p${(run += 1)}`;
          const events = histories[aggregate].map(([type, payload], index) =>
            ev(aggregate, key, index + 1, type, payload),
          );
          const stream = [...events, ...duplicates.map((d) => events[d % events.length]!)];
          const shuffled = shuffle(stream, seed);
          for (const event of shuffled) await gk.handle(event);
          const inspection = await gk.inspect(aggregate, key);
          expect(inspection).toMatchObject({
            state: finals[aggregate],
            lastSeq: events.length,
            buffered: [],
          });
          const applied = (await store.readOutbox(10_000)).filter((row) => row.value.key === key);
          expect(applied.map((row) => row.value.id)).toEqual(events.map((e) => e.id));
        },
      ),
      { numRuns: options.propertyRuns ?? 40 },
    );
  });
}

/** Seeded Fisher–Yates (mulberry32), so a failing order can be replayed. */
export function shuffle<TItem>(items: readonly TItem[], seed: number): TItem[] {
  const out = [...items];
  let state = seed >>> 0;
  const random = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j] as TItem, out[i] as TItem];
  }
  return out;
}

export { customerMachine, valveMachine, customerPayloads, valvePayloads };
