import { describe, expect, it } from 'vitest';
import { createGatekeeper, type Gatekeeper } from '../../../src/index.ts';
import machines from '../../../machines/index.ts';
import { event, orderHistory } from '../../support/events.ts';

function gatekeeper(overrides: Partial<Parameters<typeof createGatekeeper>[0]> = {}): Gatekeeper {
  return createGatekeeper({ machines, sweepIntervalMs: 0, ...overrides });
}

async function outcomesOf(gk: Gatekeeper, events: unknown[]) {
  const all = [];
  for (const input of events) all.push(...(await gk.handle(input)).outcomes);
  return all.map((o) => `${o.outcome}:${o.reason}:${o.type ?? '-'}${o.seq === null ? '' : `#${o.seq}`}`);
}

describe('decision rules with seq (order)', () => {
  it('applies the next seq when the transition is legal', async () => {
    const gk = gatekeeper();
    const result = await gk.handle(orderHistory('o1')[0]);
    expect(result.outcome).toMatchObject({
      outcome: 'applied',
      reason: 'legal',
      state: 'placed',
      from: 'new',
    });
    expect(result.transitions).toHaveLength(1);
  });

  it('buffers a seq beyond the next and applies it when the gap fills (drain)', async () => {
    const gk = gatekeeper();
    const [placed, paid, shipped] = orderHistory('o1');
    expect(await outcomesOf(gk, [shipped, paid])).toEqual([
      'buffered:seq-gap:order.shipped#3',
      'buffered:seq-gap:order.paid#2',
    ]);
    const result = await gk.handle(placed);
    expect(result.outcomes.map((o) => `${o.outcome}:${o.reason}:${o.seq}`)).toEqual([
      'applied:legal:1',
      'applied:drained:2',
      'applied:drained:3',
    ]);
    expect(result.transitions.map((t) => t.state)).toEqual(['placed', 'paid', 'shipped']);
    expect((await gk.inspect('order', 'o1'))?.buffered).toEqual([]);
  });

  it('discards a seq at or below the last applied as stale', async () => {
    const gk = gatekeeper();
    const [placed, paid] = orderHistory('o1');
    await outcomesOf(gk, [placed, paid]);
    const late = { ...placed, id: 'another-id' };
    expect((await gk.handle(late)).outcome).toMatchObject({ outcome: 'discarded', reason: 'stale-seq' });
  });

  it('discards an exact duplicate of a buffered event by its id', async () => {
    const gk = gatekeeper();
    const [, paid] = orderHistory('o1');
    await gk.handle(paid);
    expect((await gk.handle(paid)).outcome).toMatchObject({ outcome: 'discarded', reason: 'duplicate-id' });
    expect((await gk.handle({ ...paid, id: 'other' })).outcome).toMatchObject({
      outcome: 'discarded',
      reason: 'duplicate-seq',
    });
  });

  it('rejects the next seq with illegal-at-seq when the machine refuses its type, and skips past it', async () => {
    const gk = gatekeeper();
    const [placed] = orderHistory('o1');
    await gk.handle(placed);
    const shippedTooEarly = event('order', 'o1', 'order.shipped', { seq: 2, payload: {} });
    const result = await gk.handle(shippedTooEarly);
    expect(result.outcome).toMatchObject({ outcome: 'rejected', reason: 'illegal-at-seq', state: 'placed' });
    expect(result.outcome.detail).toContain('seq 2 is the next expected');
    expect(result.outcome.detail).toContain('not legal in state placed');
    expect((await gk.inspect('order', 'o1'))?.lastSeq).toBe(2);
    expect(
      (await gk.handle(event('order', 'o1', 'order.paid', { seq: 3, payload: { amount: 100 } }))).outcome
        .outcome,
    ).toBe('applied');
  });

  it('rejects a payment whose amount differs from the total as guard-refused', async () => {
    const gk = gatekeeper();
    await gk.handle(orderHistory('o1')[0]);
    const result = await gk.handle(event('order', 'o1', 'order.paid', { seq: 2, payload: { amount: 99 } }));
    expect(result.outcome).toMatchObject({ outcome: 'rejected', reason: 'guard-refused', state: 'placed' });
  });

  it('rejects a payload that fails its schema with the zod message', async () => {
    const gk = gatekeeper();
    const result = await gk.handle(event('order', 'o1', 'order.placed', { seq: 1, payload: { total: -3 } }));
    expect(result.outcome).toMatchObject({ outcome: 'rejected', reason: 'invalid-payload' });
    expect(result.outcome.detail).toMatch(/total/);
  });

  it('rejects an event type the machine never accepts', async () => {
    const gk = gatekeeper();
    const result = await gk.handle(event('order', 'o1', 'order.teleported', { seq: 1 }));
    expect(result.outcome).toMatchObject({ outcome: 'rejected', reason: 'unknown-event-type' });
  });

  it('lets the sequence move past a future event that was rejected on arrival (skip policy)', async () => {
    const gk = gatekeeper();
    const [placed, paid, shipped] = orderHistory('o1');
    await gk.handle(event('order', 'o1', 'order.teleported', { seq: 2 }));
    await gk.handle(placed);
    const result = await gk.handle({ ...paid, seq: 3 });
    expect(result.outcome).toMatchObject({ outcome: 'applied', state: 'paid' });
    expect((await gk.handle({ ...shipped, seq: 4 })).outcome.state).toBe('shipped');
  });

  it('rejects buffer overflow as buffer-full instead of dropping', async () => {
    const gk = gatekeeper({ defaults: { maxBuffered: 2 } });
    const events = [3, 4, 5].map((seq) => event('order', 'o1', 'order.cancelled', { seq, payload: {} }));
    expect(await outcomesOf(gk, events)).toEqual([
      'buffered:seq-gap:order.cancelled#3',
      'buffered:seq-gap:order.cancelled#4',
      'rejected:buffer-full:order.cancelled#5',
    ]);
  });

  it('discards events that arrive after the entity reached a final state', async () => {
    const gk = gatekeeper();
    const history = orderHistory('o1');
    await outcomesOf(gk, history);
    const result = await gk.handle(event('order', 'o1', 'order.cancelled', { seq: 5, payload: {} }));
    expect(result.outcome).toMatchObject({
      outcome: 'rejected',
      reason: 'illegal-at-seq',
      state: 'delivered',
    });
    const unsequenced = await gk.handle(event('order', 'o1', 'order.cancelled', { payload: {} }));
    expect(unsequenced.outcome).toMatchObject({ outcome: 'discarded', reason: 'entity-final' });
  });
});

describe('decision rules without seq (topology)', () => {
  it('buffers a type a reachable state accepts and drains it after its predecessor (customer)', async () => {
    const gk = gatekeeper();
    const created = event('customer', 'c1', 'customer.created', {
      payload: { name: 'Ada', email: 'ada@example.com' },
    });
    const billing = event('customer', 'c1', 'customer.billing-details.added', {
      payload: { iban: 'NL91ABNA0417164300' },
    });
    const activated = event('customer', 'c1', 'customer.activated', { payload: {} });
    expect(await outcomesOf(gk, [activated, billing, created])).toEqual([
      'buffered:future-type:customer.activated',
      'buffered:future-type:customer.billing-details.added',
      'applied:legal:customer.created',
      'applied:drained:customer.billing-details.added',
      'applied:drained:customer.activated',
    ]);
    expect((await gk.inspect('customer', 'c1'))?.state).toBe('active');
  });

  it('discards a type only unreachable states accept as past', async () => {
    const gk = gatekeeper();
    const created = event('customer', 'c1', 'customer.created', {
      payload: { name: 'Ada', email: 'ada@example.com' },
    });
    const billing = event('customer', 'c1', 'customer.billing-details.added', {
      payload: { iban: 'NL91ABNA0417164300' },
    });
    await outcomesOf(gk, [created, billing]);
    const again = event('customer', 'c1', 'customer.created', {
      payload: { name: 'Ada', email: 'ada@example.com' },
    });
    expect((await gk.handle(again)).outcome).toMatchObject({
      outcome: 'discarded',
      reason: 'unreachable-type',
    });
  });

  it('discards a redelivered unsequenced event by its id', async () => {
    const gk = gatekeeper();
    const created = event('customer', 'c1', 'customer.created', {
      payload: { name: 'Ada', email: 'ada@example.com' },
    });
    await gk.handle(created);
    expect((await gk.handle(created)).outcome).toMatchObject({
      outcome: 'discarded',
      reason: 'duplicate-id',
    });
  });

  it('treats an unsequenced order payment with the wrong amount as guard-refused', async () => {
    const gk = gatekeeper();
    await gk.handle(event('order', 'o1', 'order.placed', { payload: { total: 10 } }));
    const result = await gk.handle(event('order', 'o1', 'order.paid', { payload: { amount: 11 } }));
    expect(result.outcome).toMatchObject({ outcome: 'rejected', reason: 'guard-refused' });
  });

  it('cannot order valve events without seq inside its cycle, but seq can', async () => {
    const gk = gatekeeper();
    const valve = gk.aggregates.get('valve');
    expect(valve?.topology.cycles).toEqual([['valve.closed', 'valve.open']]);
    await gk.handle(event('valve', 'v1', 'valve.installed', { seq: 1, payload: { site: 'a' } }));
    const out = await outcomesOf(gk, [
      event('valve', 'v1', 'valve.closed', { seq: 3, payload: {} }),
      event('valve', 'v1', 'valve.opened', { seq: 4, payload: { flow: 10 } }),
      event('valve', 'v1', 'valve.opened', { seq: 2, payload: { flow: 20 } }),
    ]);
    expect(out.slice(-3)).toEqual([
      'applied:legal:valve.opened#2',
      'applied:drained:valve.closed#3',
      'applied:drained:valve.opened#4',
    ]);
    expect((await gk.inspect('valve', 'v1'))?.context).toMatchObject({ flow: 10, cycles: 2 });
  });
});

describe('boundary rejections', () => {
  it('rejects an invalid envelope with the zod message and keeps it as a dead letter', async () => {
    const gk = gatekeeper();
    const result = await gk.handle({ id: 'x', aggregate: 'order', type: 'order.placed' });
    expect(result.outcome).toMatchObject({ outcome: 'rejected', reason: 'invalid-envelope', id: 'x' });
    expect(result.outcome.detail).toContain('key');
    expect((await gk.store.readDeadLetters(10)).map((d) => d.value.reason)).toEqual(['invalid-envelope']);
  });

  it('rejects an unknown aggregate naming the known ones', async () => {
    const gk = gatekeeper();
    const result = await gk.handle(event('invoice', 'i1', 'invoice.sent', { seq: 1 }));
    expect(result.outcome).toMatchObject({ outcome: 'rejected', reason: 'unknown-aggregate' });
    expect(result.outcome.detail).toContain('order, customer, valve');
  });
});

describe('park policy (customer)', () => {
  it('parks at a rejected next event, holds later ones, and releases them on operator skip', async () => {
    const gk = gatekeeper();
    const created = event('customer', 'c1', 'customer.created', {
      seq: 1,
      payload: { name: 'Ada', email: 'ada@example.com' },
    });
    const activatedTooEarly = event('customer', 'c1', 'customer.activated', { seq: 2, payload: {} });
    const billing = event('customer', 'c1', 'customer.billing-details.added', {
      seq: 3,
      payload: { iban: 'NL91ABNA0417164300' },
    });
    await gk.handle(created);
    const parked = await gk.handle(activatedTooEarly);
    expect(parked.outcome).toMatchObject({ outcome: 'rejected', reason: 'illegal-at-seq', parked: true });
    expect((await gk.handle(billing)).outcome).toMatchObject({
      outcome: 'buffered',
      reason: 'entity-parked',
    });
    expect(await gk.parked()).toEqual([{ aggregate: 'customer', key: 'c1' }]);
    const released = await gk.skip('customer', 'c1');
    expect(released.map((o) => `${o.outcome}:${o.reason}:${o.seq}`)).toEqual(['applied:drained:3']);
    expect((await gk.inspect('customer', 'c1'))?.state).toBe('billable');
    await expect(gk.skip('customer', 'c1')).rejects.toThrow(/not parked/);
  });

  it('retries a parked event against the current state on operator retry', async () => {
    const gk = gatekeeper();
    await gk.handle(
      event('customer', 'c1', 'customer.created', {
        seq: 1,
        payload: { name: 'Ada', email: 'ada@example.com' },
      }),
    );
    await gk.handle(event('customer', 'c1', 'customer.activated', { seq: 2, payload: {} }));
    const again = await gk.retry('customer', 'c1');
    expect(again[0]).toMatchObject({ outcome: 'rejected', parked: true });
    expect((await gk.inspect('customer', 'c1'))?.parked?.event.seq).toBe(2);
  });
});

describe('input sources on dead letters', () => {
  const at = (offset: number) => ({ topic: 'in', partition: 0, offset: String(offset) });
  const sourcesOfLetters = async (gk: Gatekeeper) =>
    (await gk.store.readDeadLetters(100)).map((letter) => [letter.value.reason, letter.value.source]);

  it('keeps a parked event’s source for the rejection an operator retry gives it', async () => {
    const gk = gatekeeper();
    await gk.handle(
      event('customer', 'c1', 'customer.created', { seq: 1, payload: { name: 'Ada', email: 'a@b.io' } }),
      at(1),
    );
    await gk.handle(event('customer', 'c1', 'customer.activated', { seq: 2 }), at(2));
    await gk.retry('customer', 'c1');
    expect(await sourcesOfLetters(gk)).toEqual([
      ['illegal-at-seq', at(2)],
      ['illegal-at-seq', at(2)],
    ]);
  });

  it('puts the source on refusals before deciding, and leaves it out when none was given', async () => {
    const gk = gatekeeper();
    await gk.rejectUnparseable('{nope', 'not JSON', at(7));
    await gk.rejectInput(orderHistory('o9')[0], 'key-mismatch', 'record key differs', at(8));
    await gk.handle(event('invoice', 'i1', 'invoice.sent'), at(9));
    await gk.handle({ nonsense: true });
    expect(await sourcesOfLetters(gk)).toEqual([
      ['invalid-envelope', at(7)],
      ['key-mismatch', at(8)],
      ['unknown-aggregate', at(9)],
      ['invalid-envelope', undefined],
    ]);
    expect((await gk.store.readDeadLetters(100))[3]?.value).not.toHaveProperty('source');
  });
});
