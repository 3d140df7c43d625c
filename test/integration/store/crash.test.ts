/**
 * Crash: a gatekeeper process gating a shuffled stream of thousands of events is killed with
 * SIGKILL at random moments and restarted from its saved consumer offset (so the events in flight
 * are delivered again). Afterwards the store must hold exactly the in-order result.
 */
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Random } from '../../../src/demo/random.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { checkStore, expectInOrder, makeStream } from './support/in-order-check.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';
import { startWorker, type RunningWorker } from './support/workers.ts';

describe('a gatekeeper process killed mid-stream', () => {
  let prefix = '';
  afterEach(async () => {
    const admin = new Redis(REDIS_URL);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('killed with SIGKILL at random moments and restarted, ends with the in-order states, every event accounted for and no transition twice', async () => {
    prefix = uniquePrefix('crash');
    const stream = makeStream({ entities: 1_200, seed: 11 });
    expect(stream.inputs.length).toBeGreaterThan(4_000);
    const file = join(tmpdir(), `${prefix}.json`);
    writeFileSync(file, JSON.stringify(stream.inputs));
    const env = { GK_PREFIX: prefix, GK_STREAM: file, GK_REDIS_URL: REDIS_URL, GK_USE_OFFSET: '1', GK_CONCURRENCY: '32' };

    // Five kill points spread over the stream, each at a random offset.
    const random = new Random(Date.now() % 2 ** 31);
    const killAt = Array.from({ length: 5 }, (_, i) => Math.floor(((i + random.next()) / 6) * stream.inputs.length));
    const kills: number[] = [];
    for (let run = 0; run < killAt.length + 1; run += 1) {
      const worker: RunningWorker = startWorker(env);
      const threshold = killAt[run];
      if (threshold !== undefined) {
        worker.onProgress((committed) => {
          if (committed >= threshold && worker.child.exitCode === null && !worker.child.killed) {
            kills.push(committed);
            worker.child.kill('SIGKILL');
          }
        });
      }
      const exit = await worker.exited;
      if (exit.signal !== 'SIGKILL') {
        expect(exit.code, 'a worker that was not killed must finish cleanly').toBe(0);
        break;
      }
    }
    // Every planned kill happened mid-stream, then a last run finished the stream.
    expect(kills).toHaveLength(killAt.length);
    expect(kills.every((at) => at < stream.inputs.length)).toBe(true);

    const store = redisStore({ url: REDIS_URL, prefix });
    try {
      await checkStore(store, stream, await expectInOrder(stream));
    } finally {
      await store.close();
    }
  }, 180_000);
});
