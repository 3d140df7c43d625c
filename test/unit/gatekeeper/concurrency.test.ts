import { describe, expect, it } from 'vitest';
import { createGatekeeper, memoryStore, type EntityStore } from '../../../src/index.ts';
import machines from '../../../machines/index.ts';
import { event, orderHistory } from '../../support/events.ts';

/** A memory store whose commits wait until the test releases them, to hold one key mid-decision. */
function gatedStore(): { store: EntityStore; hold: (key: string) => () => void } {
  const inner = memoryStore();
  const gates = new Map<string, Promise<void>>();
  const store: EntityStore = {
    load: (ref) => inner.load(ref),
    commit: async (ref, commit) => {
      await gates.get(ref.key);
      return inner.commit(ref, commit);
    },
    recordDeadLetter: (l) => inner.recordDeadLetter(l),
    history: (ref) => inner.history(ref),
    stalled: (b, l) => inner.stalled(b, l),
    parked: (l) => inner.parked(l),
    versions: () => inner.versions(),
    scan: (aggregate, visit) => inner.scan(aggregate, visit),
    readOutbox: (l) => inner.readOutbox(l),
    ackOutbox: (ids) => inner.ackOutbox(ids),
    readDeadLetters: (l) => inner.readDeadLetters(l),
    ackDeadLetters: (ids) => inner.ackDeadLetters(ids),
    close: () => inner.close(),
  };
  const hold = (key: string) => {
    let release!: () => void;
    gates.set(key, new Promise<void>((resolve) => (release = resolve)));
    return () => {
      gates.delete(key);
      release();
    };
  };
  return { store, hold };
}

describe('per-entity mailboxes', () => {
  it('applies many concurrent events of one key strictly in arrival order', async () => {
    const gk = createGatekeeper({ machines, sweepIntervalMs: 0 });
    const applied: number[] = [];
    gk.subscribe({ onTransition: (t) => applied.push(t.seq) });
    const events = [event('valve', 'v', 'valve.installed', { seq: 1, payload: { site: 's' } })];
    for (let seq = 2; seq <= 200; seq += 1) {
      events.push(
        seq % 2 === 0
          ? event('valve', 'v', 'valve.opened', { seq, payload: { flow: seq % 100 } })
          : event('valve', 'v', 'valve.closed', { seq, payload: {} }),
      );
    }
    const results = await Promise.all(events.map((e) => gk.handle(e)));
    expect(results.every((r) => r.outcome.outcome === 'applied' && r.outcome.reason === 'legal')).toBe(true);
    expect(applied).toEqual(events.map((e) => e.seq));
  });

  it('does not make other keys wait while one key is mid-decision', async () => {
    const { store, hold } = gatedStore();
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    const release = hold('slow');
    const slow = gk.handle(orderHistory('slow')[0]);
    const fast = await gk.handle(orderHistory('fast')[0]);
    expect(fast.outcome.outcome).toBe('applied');
    let slowDone = false;
    void slow.then(() => (slowDone = true));
    await Promise.resolve();
    expect(slowDone).toBe(false);
    release();
    expect((await slow).outcome.outcome).toBe('applied');
  });

  it('keeps resident actors under the cap by evicting idle entities, and rehydrates them from the store', async () => {
    const gk = createGatekeeper({ machines, sweepIntervalMs: 0, maxResidentEntities: 10 });
    for (let i = 0; i < 50; i += 1) await gk.handle(orderHistory(`o${i}`)[0]);
    expect(gk.residentCount()).toBeLessThanOrEqual(10);
    const result = await gk.handle(orderHistory('o0')[1]);
    expect(result.outcome).toMatchObject({ outcome: 'applied', from: 'placed', state: 'paid' });
  });

  it('fences two gatekeepers sharing one store: each transition is applied once', async () => {
    const store = memoryStore({ outbox: true });
    const a = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    const b = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    const history = orderHistory('shared');
    await Promise.all(history.flatMap((e) => [a.handle(structuredClone(e)), b.handle(structuredClone(e))]));
    const outbox = await store.readOutbox(100);
    expect(outbox.map((row) => row.value.seq)).toEqual([1, 2, 3, 4]);
    expect((await a.inspect('order', 'shared'))?.state).toBe('delivered');
  });
});

describe('stall sweeper', () => {
  it('dead-letters events that waited longer than the limit, on wall-clock time', async () => {
    const { ManualClock } = await import('../../../src/index.ts');
    const clock = new ManualClock(1_000);
    const gk = createGatekeeper({
      machines,
      clock,
      sweepIntervalMs: 0,
      defaults: { onStall: 'dead-letter', stallAfterMs: 60_000 },
    });
    await gk.handle(orderHistory('o1')[2]);
    expect(await gk.stalled()).toEqual([]);
    clock.advance(61_000);
    expect((await gk.stalled()).map((s) => s.key)).toEqual(['o1']);
    const swept = await gk.sweep();
    expect(swept.map((o) => `${o.outcome}:${o.reason}:${o.seq}`)).toEqual(['rejected:stalled:3']);
    expect((await gk.inspect('order', 'o1'))?.buffered).toEqual([]);
  });

  it('skips the gap and drains under skip-gap', async () => {
    const { ManualClock } = await import('../../../src/index.ts');
    const clock = new ManualClock(0);
    const gk = createGatekeeper({
      machines,
      clock,
      sweepIntervalMs: 0,
      defaults: { onStall: 'skip-gap', stallAfterMs: 1_000 },
    });
    const [placed, , shipped] = orderHistory('o1');
    await gk.handle(placed);
    await gk.handle(event('order', 'o1', 'order.cancelled', { seq: 3, payload: {} }));
    clock.advance(5_000);
    const swept = await gk.sweep();
    expect(swept.map((o) => `${o.outcome}:${o.reason}:${o.type}`)).toEqual([
      'applied:drained:order.cancelled',
    ]);
    expect((await gk.handle(shipped)).outcome).toMatchObject({ outcome: 'discarded', reason: 'stale-seq' });
  });
});
