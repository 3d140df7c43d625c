import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import machines, { orderMachine, valveMachine } from '../../../machines/index.ts';
import { main } from '../../../src/cli/main.ts';
import type { Aggregate } from '../../../src/core/aggregate.ts';
import type { HistoryEntry } from '../../../src/core/history.ts';
import type { Outcome } from '../../../src/core/outcome.ts';
import { inOrderReference } from '../../../src/demo/in-order-reference.ts';
import { feed } from '../../../src/demo/run-demo.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../../../src/gatekeeper/gatekeeper.ts';
import { entityPath } from '../../../src/observe/history/entity-path.ts';
import { historyMermaid, historyText, renderHistory } from '../../../src/observe/history/render-history.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import { captureIO } from '../../support/cli-io.ts';

const open: Gatekeeper[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((gatekeeper) => gatekeeper.close()));
});

/** Gates a shuffled, duplicated demo stream and records every outcome per entity, in decision order. */
async function gateShuffled(historyLimit?: number) {
  const gatekeeper = createGatekeeperWithStore({
    machines,
    store: memoryStore(historyLimit === undefined ? {} : { historyLimit }),
    sweepIntervalMs: 0,
  });
  open.push(gatekeeper);
  const seen = new Map<string, Outcome[]>();
  gatekeeper.subscribe({
    onOutcome: (outcome) => {
      if (outcome.aggregate === null || outcome.key === null || !gatekeeper.aggregates.has(outcome.aggregate))
        return;
      const id = `${outcome.aggregate}/${outcome.key}`;
      seen.set(id, [...(seen.get(id) ?? []), outcome]);
    },
  });
  const stream = demoStream({ entities: 300, seed: 7, duplicateRate: 0.3, illegalRate: 0.1 });
  await feed(gatekeeper, stream.inputs);
  await gatekeeper.idle();
  return { gatekeeper, seen, stream };
}

const brief = (entry: Pick<HistoryEntry, 'seq' | 'type' | 'outcome' | 'reason'>) =>
  `${entry.seq}:${entry.type}:${entry.outcome}:${entry.reason}`;

describe('entity history for a shuffled stream', () => {
  it('records every decision in order, applies what in-order processing applies and ends in the inspected state', async () => {
    const { gatekeeper, seen, stream } = await gateShuffled();
    let buffered = 0;
    for (const events of stream.histories) {
      const { aggregate, key } = events[0] as { aggregate: string; key: string };
      const history = await gatekeeper.history(aggregate, key);
      const outcomes = seen.get(`${aggregate}/${key}`) ?? [];
      expect(history.map(brief)).toEqual(outcomes.map(brief));
      // The applied events are exactly those in-order processing applies, in that order.
      const applied = history.filter((entry) => entry.outcome === 'applied').map((entry) => entry.id);
      expect(applied).toEqual(
        inOrderReference(gatekeeper.aggregates.get(aggregate) as Aggregate, events).applied,
      );
      const inspected = await gatekeeper.inspect(aggregate, key);
      expect(history.at(-1)?.state).toEqual(inspected?.state);
      // Every event the producer sent got at least one decision.
      for (const event of events) expect(history.some((entry) => entry.id === event.id)).toBe(true);
      buffered += history.filter((entry) => entry.outcome === 'buffered').length;
    }
    expect(buffered).toBeGreaterThan(0); // the stream really was out of order
  });

  it('keeps only the newest decisions when the limit is small', async () => {
    const limit = 3;
    const { gatekeeper, seen } = await gateShuffled(limit);
    let trimmed = 0;
    for (const [id, outcomes] of seen) {
      const [aggregate, key] = id.split('/') as [string, string];
      const history = await gatekeeper.history(aggregate, key);
      expect(history.length).toBe(Math.min(limit, outcomes.length));
      expect(history.map(brief)).toEqual(outcomes.slice(-limit).map(brief));
      if (outcomes.length > limit) trimmed += 1;
    }
    expect(trimmed).toBeGreaterThan(10);
  });
});

describe('history rendering', () => {
  const at = Date.UTC(2026, 0, 1);
  const entry = (
    partial: Partial<HistoryEntry> & Pick<HistoryEntry, 'seq' | 'type' | 'outcome' | 'reason'>,
  ): HistoryEntry => ({
    at,
    id: `e${partial.seq}`,
    state: 'new',
    fromBuffer: false,
    ...partial,
  });
  const orderHistory: HistoryEntry[] = [
    entry({ seq: 2, type: 'order.paid', outcome: 'buffered', reason: 'seq-gap', state: 'new' }),
    entry({
      seq: 1,
      type: 'order.placed',
      outcome: 'applied',
      reason: 'legal',
      from: 'new',
      state: 'placed',
    }),
    entry({
      seq: 2,
      type: 'order.paid',
      outcome: 'applied',
      reason: 'drained',
      from: 'placed',
      state: 'paid',
      fromBuffer: true,
    }),
    entry({ seq: 1, type: 'order.placed', outcome: 'discarded', reason: 'duplicate-id', state: 'paid' }),
    entry({ seq: 3, type: 'order.delivered', outcome: 'rejected', reason: 'illegal-at-seq', state: 'paid' }),
  ];

  it('finds the path: visited states, numbered transitions, held events by state', () => {
    const path = entityPath(orderMachine, orderHistory);
    expect(path.visited).toEqual(['order.new', 'order.placed', 'order.paid']);
    expect(path.current).toEqual(['order.paid']);
    expect(path.steps.map((step) => [step.step, step.transition?.id])).toEqual([
      [1, 'order.new:0'],
      [2, 'order.placed:0'],
    ]);
    expect(path.held.map((held) => [held.entry.outcome, held.states[0]])).toEqual([
      ['buffered', 'order.new'],
      ['discarded', 'order.paid'],
      ['rejected', 'order.paid'],
    ]);
  });

  it('draws the path on the Mermaid diagram with notes for the events that did not move it', async () => {
    const text = historyMermaid(orderMachine, { aggregate: 'order', key: 'o1' }, orderHistory);
    expect(text).toContain('order_new --> order_placed : [1] order.placed');
    expect(text).toContain('order_placed --> order_paid : [2] order.paid [amountMatchesTotal]');
    expect(text).toContain('order_paid --> order_shipped : order.shipped'); // not taken: unnumbered
    expect(text).toContain('class order_new,order_placed visited');
    expect(text).toContain('class order_paid current');
    expect(text).toContain('note right of order_new\n    buffered seq 2 order.paid (seq-gap)\n  end note');
    expect(text).toContain(
      '    discarded seq 1 order.placed (duplicate-id)\n    rejected seq 3 order.delivered (illegal-at-seq)',
    );
    await expect(text).toMatchFileSnapshot('./__snapshots__/order-history.mmd');
  });

  it('numbers every pass through a cycle on the same edge', () => {
    const valve: HistoryEntry[] = [
      entry({
        seq: 1,
        type: 'valve.installed',
        outcome: 'applied',
        reason: 'legal',
        from: 'new',
        state: 'closed',
      }),
      entry({
        seq: 2,
        type: 'valve.opened',
        outcome: 'applied',
        reason: 'legal',
        from: 'closed',
        state: 'open',
      }),
      entry({
        seq: 3,
        type: 'valve.closed',
        outcome: 'applied',
        reason: 'legal',
        from: 'open',
        state: 'closed',
      }),
      entry({
        seq: 4,
        type: 'valve.opened',
        outcome: 'applied',
        reason: 'legal',
        from: 'closed',
        state: 'open',
      }),
    ];
    const text = historyMermaid(valveMachine, { aggregate: 'valve', key: 'v1' }, valve);
    expect(text).toContain('valve_closed --> valve_open : [2,4] valve.opened');
    expect(text).toContain('valve_open --> valve_closed : [3] valve.closed');
  });

  it('prints text and JSON', () => {
    const text = historyText({ aggregate: 'order', key: 'o1' }, orderHistory);
    expect(text.split('\n')[0]).toBe('order/o1: 5 decisions (oldest first)');
    expect(text).toContain('new → placed');
    expect(text).toContain('(from buffer)');
    expect(
      JSON.parse(renderHistory('json', orderMachine, { aggregate: 'order', key: 'o1' }, orderHistory)),
    ).toEqual(orderHistory);
  });

  it('gatekeeper history reports an entity the store has never seen', async () => {
    const io = captureIO();
    expect(await main(['history', 'order', 'nobody'], io)).toBe(1);
    expect(io.err()).toContain('no history for order/nobody');
    expect(await main(['history', 'order'], io)).toBe(2);
    expect(await main(['history', 'invoice', 'x'], io)).toBe(2);
  });
});

describe('history of a nested, parallel machine', () => {
  it('finds the path through compound and parallel states and draws it', async () => {
    const shipment = setup({}).createMachine({
      id: 'shipment',
      initial: 'preparing',
      states: {
        preparing: {
          initial: 'picking',
          states: {
            picking: { on: { picked: 'packing' } },
            packing: { on: { packed: '#shipment.transit' } },
          },
        },
        transit: {
          type: 'parallel',
          states: {
            truck: { initial: 'moving', states: { moving: { on: { arrived: 'stopped' } }, stopped: {} } },
            papers: { initial: 'pending', states: { pending: { on: { cleared: 'done' } }, done: {} } },
          },
        },
      },
    });
    const gatekeeper = createGatekeeperWithStore({
      machines: { shipment },
      store: memoryStore(),
      sweepIntervalMs: 0,
    });
    open.push(gatekeeper);
    const event = (seq: number, type: string) => ({
      id: `s-${seq}`,
      aggregate: 'shipment',
      key: 's1',
      seq,
      type,
    });
    for (const input of [event(3, 'arrived'), event(1, 'picked'), event(2, 'packed')])
      await gatekeeper.handle(input);
    const history = await gatekeeper.history('shipment', 's1');
    const path = entityPath(shipment, history);
    expect(path.steps.map((step) => step.transition?.id)).toEqual([
      'shipment.preparing.picking:0',
      'shipment.preparing.packing:0',
      'shipment.transit.truck.moving:0',
    ]);
    expect(path.current).toEqual(['shipment.transit.truck.stopped', 'shipment.transit.papers.pending']);
    expect(path.visited).toContain('shipment.transit.truck.moving');
    const text = historyMermaid(shipment, { aggregate: 'shipment', key: 's1' }, history);
    expect(text).toContain('shipment_preparing_packing --> shipment_transit : [2] packed');
    expect(text).toContain('class shipment_transit_papers_pending,shipment_transit_truck_stopped current');
    expect(text).toContain('buffered seq 3 arrived (seq-gap)');
  });
});
