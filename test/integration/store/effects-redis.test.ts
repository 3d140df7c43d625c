/**
 * Effects on a real Redis: the same poison-and-flaky scenario as on the memory store, with the
 * queue, failure log, holding lists and attempt counts in Redis.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeper } from '../../../src/index.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { orderHistory } from '../../support/events.ts';
import { poisonAndFlakyScenario, poisonedHandler, testEffects } from '../../support/effect-scenarios.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

describe('effects on a real Redis', () => {
  const prefixes: string[] = [];
  afterEach(async () => {
    const admin = new Redis(REDIS_URL);
    for (const prefix of prefixes.splice(0)) await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('a poison entity holds in order while every other entity completes; retry and skip release the held ones in order', async () => {
    const prefix = uniquePrefix('effects');
    prefixes.push(prefix);
    const poisoned = poisonedHandler();
    await poisonAndFlakyScenario(
      (effects) =>
        createGatekeeper({
          machines,
          store: redisStore({ url: REDIS_URL, prefix, shards: 4, effects: true }),
          effects,
        }),
      poisoned,
    );
  }, 60_000);

  it('with the outbox off, effects still get every transition, and the outbox stream stays empty', async () => {
    const prefix = uniquePrefix('effects-no-outbox');
    prefixes.push(prefix);
    const seen: string[] = [];
    const store = redisStore({ url: REDIS_URL, prefix, shards: 2, effects: true });
    const gatekeeper = createGatekeeper({
      machines,
      store,
      effects: testEffects((transition, context) => void seen.push(context.idempotencyKey)),
    });
    await gatekeeper.handleBatch(orderHistory('a'));
    await gatekeeper.effects?.idle();
    expect(seen).toEqual(['order/a/1', 'order/a/2', 'order/a/3', 'order/a/4']);
    expect(await store.readOutbox(10)).toEqual([]);
    expect(await gatekeeper.effects?.pending()).toBe(0);
    await gatekeeper.close();
  });

  it('attempt counts are durable: a new process continues counting where the last one stopped', async () => {
    const prefix = uniquePrefix('effects-attempts');
    prefixes.push(prefix);
    const open = (onTransition: Parameters<typeof testEffects>[0]) =>
      createGatekeeper({
        machines,
        store: redisStore({ url: REDIS_URL, prefix, shards: 1, effects: true }),
        effects: testEffects(onTransition),
      });
    const first = open(() => {
      throw new Error('down');
    });
    await first.handle(orderHistory('a')[0]);
    await first.effects?.idle();
    const [failure] = (await first.effects?.failures()) ?? [];
    expect(failure?.attempts).toBe(3);
    await first.close();
    const attempts: number[] = [];
    const second = open((_transition, context) => void attempts.push(context.attempt));
    await second.retry('order', 'a');
    await second.effects?.idle();
    expect(attempts).toEqual([4]);
    await second.close();
  });
});
