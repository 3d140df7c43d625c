/**
 * Redis restarts: a server of our own (append-only file, fsync always, like a production Redis
 * that keeps its data) is stopped and started under a running gatekeeper. Decisions fail cleanly
 * with StoreUnavailableError while it is down, processing resumes by itself when it is back, and
 * the result is exactly the in-order one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeper, StoreUnavailableError } from '../../../src/index.ts';
import { redisStore, type RedisStore } from '../../../src/store/redis/index.ts';
import { checkStore, expectInOrder, makeStream } from './support/in-order-check.ts';
import { startOwnRedis, uniquePrefix, type OwnRedis } from './support/redis-servers.ts';

/** Retries an operation that fails with StoreUnavailableError, as a consumer redelivers; bounded. */
async function untilAvailable<TResult>(
  operation: () => Promise<TResult>,
  onUnavailable: () => void = () => undefined,
): Promise<TResult> {
  for (let attempt = 0; attempt < 1_000; attempt += 1) {
    try {
      return await operation();
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      onUnavailable();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw new Error('the store stayed unavailable for 20 s');
}

describe('Redis restarts under a running gatekeeper', () => {
  let server: OwnRedis;
  beforeAll(async () => {
    server = await startOwnRedis({ durable: true });
  });
  afterAll(async () => {
    await server.destroy();
  });

  it('fails a decision with StoreUnavailableError promptly while Redis is down, and the same store and gatekeeper work again once it is back', async () => {
    const store = redisStore({ url: server.url, prefix: uniquePrefix('outage') });
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    const event = (seq: number, type: string, payload: object) => ({
      id: `o-${seq}`,
      aggregate: 'order',
      key: 'o',
      seq,
      type,
      payload,
    });
    await gk.handle(event(1, 'order.placed', { total: 3 }));
    await server.stop();
    const started = Date.now();
    await expect(gk.handle(event(2, 'order.paid', { amount: 3 }))).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    await expect(store.load({ aggregate: 'order', key: 'o' })).rejects.toBeInstanceOf(StoreUnavailableError);
    // Failing fast matters: a decision must not hang while Redis is away (at most one reconnect attempt).
    expect(Date.now() - started).toBeLessThan(3_000);
    await server.start();
    const paid = await untilAvailable(() => gk.handle(event(2, 'order.paid', { amount: 3 })));
    expect(paid.outcome).toMatchObject({ outcome: 'applied', state: 'paid' });
    expect(await gk.inspect('order', 'o')).toMatchObject({ state: 'paid', version: 2 });
    await gk.close();
  });

  it('a store created while Redis is down starts working when Redis comes up', async () => {
    await server.stop();
    const store: RedisStore = redisStore({ url: server.url, prefix: uniquePrefix('late') });
    try {
      await expect(store.ready()).rejects.toBeInstanceOf(StoreUnavailableError);
      await server.start();
      await untilAvailable(() => store.ready());
      expect(await store.load({ aggregate: 'order', key: 'x' })).toBeUndefined();
    } finally {
      await store.close();
    }
  });

  it('a stream keeps being processed across a Redis stop and start: processing resumes, nothing lost or applied twice', async () => {
    const prefix = uniquePrefix('restart');
    const store = redisStore({ url: server.url, prefix, outbox: true, historyLimit: 1_000 });
    const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    const stream = makeStream({ entities: 500, seed: 5 });
    let failures = 0;
    let resolveFailure: () => void = () => undefined;
    const firstFailure = new Promise<void>((resolve) => (resolveFailure = resolve));
    let outage: Promise<void> | undefined;
    let next = 0;
    let processed = 0;
    const pump = async () => {
      while (next < stream.inputs.length) {
        const input = stream.inputs[next];
        next += 1;
        await untilAvailable(
          () => gk.handle(input),
          () => {
            failures += 1;
            resolveFailure();
          },
        );
        processed += 1;
        // A third of the way in, Redis goes away until a decision has seen it gone, then comes back.
        if (processed === Math.floor(stream.inputs.length / 3)) {
          outage = (async () => {
            await server.stop();
            await firstFailure;
            await server.start();
          })();
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, pump));
    await outage;
    expect(outage).toBeDefined();
    expect(failures).toBeGreaterThan(0);
    await checkStore(store, stream, await expectInOrder(stream));
    await gk.close();
  }, 120_000);
});
