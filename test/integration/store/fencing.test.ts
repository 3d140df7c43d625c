/**
 * Fencing: two gatekeeper processes, each with its own Redis connection, gate the same shuffled
 * stream at the same time (a rebalance gone wrong). Version fencing must leave exactly the in-order
 * result, with every transition in the outbox once.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { redisStore } from '../../../src/store/redis/index.ts';
import { checkStore, expectInOrder, makeStream } from './support/in-order-check.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';
import { startWorker } from './support/workers.ts';
import { Redis } from 'ioredis';

describe('fencing between two gatekeeper processes', () => {
  let prefix = '';
  afterEach(async () => {
    const admin = new Redis(REDIS_URL);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('two processes fed the same shuffled stream concurrently end with the in-order states and each transition in the outbox once', async () => {
    prefix = uniquePrefix('fencing');
    const stream = makeStream({ entities: 600, seed: 7 });
    const file = join(tmpdir(), `${prefix}.json`);
    writeFileSync(file, JSON.stringify(stream.inputs));
    const env = { GK_PREFIX: prefix, GK_STREAM: file, GK_REDIS_URL: REDIS_URL, GK_WAIT_FOR_GO: '1', GK_CONCURRENCY: '16' };
    const workers = [startWorker(env), startWorker(env)];
    await Promise.all(workers.map((w) => w.message('ready')));
    for (const worker of workers) worker.child.send({ type: 'go' });
    const results = await Promise.all(workers.map((w) => w.message('done')));
    const exits = await Promise.all(workers.map((w) => w.exited));
    expect(exits.map((e) => e.code)).toEqual([0, 0]);
    // Both processes decided every input; the race is real only if commits actually collided.
    expect(results.map((r) => r.processed)).toEqual([stream.inputs.length, stream.inputs.length]);
    expect(results[0]!.conflicts + results[1]!.conflicts).toBeGreaterThan(0);

    const store = redisStore({ url: REDIS_URL, prefix });
    try {
      await checkStore(store, stream, await expectInOrder(stream));
    } finally {
      await store.close();
    }
  }, 120_000);
});
