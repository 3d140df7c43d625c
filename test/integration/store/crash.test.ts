/**
 * Crash: a gatekeeper process gating a shuffled stream of thousands of events is killed with
 * SIGKILL at random moments and restarted from its saved consumer offset (so the events in flight
 * are delivered again). Afterwards the store must hold exactly the in-order result.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, it } from 'vitest';
import { killedAndRestarted } from './support/process-scenarios.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

describe('a gatekeeper process killed mid-stream', () => {
  let prefix = '';
  afterEach(async () => {
    const admin = new Redis(REDIS_URL);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('killed with SIGKILL at random moments and restarted five times, ends with the in-order states, every event accounted for and no transition twice', async () => {
    prefix = uniquePrefix('crash');
    await killedAndRestarted({ url: REDIS_URL }, prefix, 1_200, 5);
  }, 180_000);
});
