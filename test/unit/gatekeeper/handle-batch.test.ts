import { describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import {
  ClosedError,
  createGatekeeper,
  memoryStore,
  type EntityStore,
  type HandleResult,
} from '../../../src/index.ts';
import { createMetrics } from '../../../src/observe/index.ts';
import { orderHistory } from '../../support/events.ts';

/** The memory store without its synchronous core, so every decision goes through promises. */
function asynchronousStore(failFor?: string): EntityStore {
  const inner = memoryStore();
  return Object.assign(Object.create(inner) as EntityStore, {
    sync: undefined,
    commit: (ref: Parameters<EntityStore['commit']>[0], commit: Parameters<EntityStore['commit']>[1]) =>
      ref.key === failFor
        ? Promise.reject(new Error(`store down for ${ref.key}`))
        : inner.commit(ref, commit),
  });
}

async function oneByOne(inputs: readonly unknown[], store?: EntityStore): Promise<HandleResult[]> {
  const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0, ...(store ? { store } : {}) });
  const results: HandleResult[] = [];
  for (const input of inputs) results.push(await gatekeeper.handle(input));
  await gatekeeper.close();
  return results;
}

describe('handleBatch', () => {
  const { inputs } = demoStream({ entities: 200, seed: 11 });

  it('gives every input the result handle would, in input order, on the embedded store and an asynchronous one', async () => {
    const expected = await oneByOne(inputs);
    for (const store of [undefined, asynchronousStore()]) {
      const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0, ...(store ? { store } : {}) });
      const results: HandleResult[] = [];
      const indexes: number[] = [];
      for (let start = 0; start < inputs.length; start += 64) {
        await gatekeeper.handleBatch(inputs.slice(start, start + 64), (result, index) => {
          results[start + index] = result;
          indexes.push(start + index);
        });
      }
      expect(new Set(indexes).size).toBe(inputs.length);
      expect(results).toEqual(expected);
      await gatekeeper.close();
    }
  });

  it('decides the whole batch before returning on the embedded store', () => {
    const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0 });
    const seen: string[] = [];
    const pending = gatekeeper.handleBatch(orderHistory('o-1'), (result) =>
      seen.push(result.outcome.outcome),
    );
    expect(seen).toEqual(['applied', 'applied', 'applied', 'applied']);
    return pending;
  });

  it('handles every input after a store failure, then rejects with that failure', async () => {
    const store = asynchronousStore('broken');
    const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0, store });
    const decided: string[] = [];
    const batch = [...orderHistory('broken').slice(0, 1), ...orderHistory('fine')];
    await expect(
      gatekeeper.handleBatch(batch, (result) => decided.push(`${result.outcome.key}:${result.outcome.seq}`)),
    ).rejects.toThrow('store down for broken');
    expect(decided.sort()).toEqual(['fine:1', 'fine:2', 'fine:3', 'fine:4']);
    await gatekeeper.close();
  });

  it('rejects with an error thrown by onResult, after deciding the rest', async () => {
    const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0 });
    await expect(
      gatekeeper.handleBatch(orderHistory('o-2'), (_, index) => {
        if (index === 0) throw new Error('consumer bug');
      }),
    ).rejects.toThrow('consumer bug');
    expect((await gatekeeper.inspect('order', 'o-2'))?.state).toBe('delivered');
    await gatekeeper.close();
  });

  it('refuses work once the gatekeeper is closed', async () => {
    const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0 });
    await gatekeeper.close();
    await expect(gatekeeper.handleBatch(orderHistory('o-3'))).rejects.toBeInstanceOf(ClosedError);
  });

  it('times each input of a batch on an instrumented gatekeeper', async () => {
    const metrics = createMetrics();
    const gatekeeper = metrics.instrument(createGatekeeper({ machines, sweepIntervalMs: 0 }));
    const outcomes: string[] = [];
    await gatekeeper.handleBatch(orderHistory('o-4'), (result) => outcomes.push(result.outcome.outcome));
    expect(outcomes).toHaveLength(4);
    const text = await metrics.registry.metrics();
    expect(text).toMatch(/gatekeeper_decision_duration_seconds_count\{aggregate="order"\} 4/);
    metrics.close();
    await gatekeeper.close();
  });
});
