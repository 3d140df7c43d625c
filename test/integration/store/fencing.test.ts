/**
 * Fencing: two gatekeeper processes, each with its own Redis connection, gate the same shuffled
 * stream at the same time (a rebalance gone wrong). Version fencing must leave exactly the in-order
 * result, with every transition in the outbox once.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, it } from 'vitest';
import { twoProcessesOneStream } from './support/process-scenarios.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

describe('fencing between two gatekeeper processes', () => {
  let prefix = '';
  afterEach(async () => {
    const admin = new Redis(REDIS_URL);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('two processes fed the same shuffled stream concurrently end with the in-order states and each transition in the outbox once', async () => {
    prefix = uniquePrefix('fencing');
    await twoProcessesOneStream({ url: REDIS_URL }, prefix, 600);
  }, 120_000);
});
