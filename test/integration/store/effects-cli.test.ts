/**
 * `gatekeeper effects list|retry|skip` against a Redis store a gatekeeper with a failing handler
 * wrote: the failure log is listed, and retry / skip change it so the running process releases
 * the held effects in order.
 */
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeper } from '../../../src/index.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { runCli } from '../../support/cli-io.ts';
import { orderHistory } from '../../support/events.ts';
import { testEffects } from '../../support/effect-scenarios.ts';
import { deletePrefix, REDIS_URL, uniquePrefix } from './support/redis-servers.ts';

describe('gatekeeper effects on the Redis store', () => {
  let prefix = '';
  afterEach(async () => {
    const admin = new Redis(REDIS_URL);
    await deletePrefix(admin, prefix);
    await admin.quit();
  });

  it('lists the failed effects with their error and held count; retry and skip release the held ones in order; a second retry exits 1', async () => {
    prefix = uniquePrefix('effects-cli');
    const redis = ['--redis', REDIS_URL, '--redis-prefix', prefix];
    const down = new Set(['a', 'b']);
    const ran: string[] = [];
    const gatekeeper = createGatekeeper({
      machines,
      store: redisStore({ url: REDIS_URL, prefix, shards: 2, effects: true }),
      effects: testEffects((transition, context) => {
        if (down.has(transition.key)) throw new Error(`service down for ${transition.key}`);
        ran.push(context.idempotencyKey);
      }),
    });
    await gatekeeper.handleBatch([...orderHistory('a'), ...orderHistory('b')]);
    await gatekeeper.effects?.idle();

    const listed = await runCli(['effects', 'list', ...redis]);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('order/a  order.placed (order/a/1)');
    expect(listed.stdout).toContain('service down for a');
    expect(listed.stdout).toContain('3 later effect(s) held');
    const json = await runCli(['effects', 'list', '--json', ...redis]);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as { key: string }).key)
        .sort(),
    ).toEqual(['a', 'b']);
    const inspected = await runCli(['inspect', 'order', 'a', ...redis]);
    expect(inspected.stdout).toMatch(/effect +order\/a\/1 failed 3 attempts/);

    down.clear();
    expect((await runCli(['effects', 'retry', '--aggregate', 'order', '--key', 'a', ...redis])).code).toBe(0);
    expect((await runCli(['effects', 'skip', 'order', 'b', ...redis])).code).toBe(0);
    // The running gatekeeper notices within its idle poll.
    for (let i = 0; i < 100 && ran.length < 7; i += 1)
      await new Promise((resolve) => setTimeout(resolve, 50));
    await gatekeeper.effects?.idle();
    expect(ran.filter((key) => key.startsWith('order/a/'))).toEqual([
      'order/a/1',
      'order/a/2',
      'order/a/3',
      'order/a/4',
    ]);
    expect(ran.filter((key) => key.startsWith('order/b/'))).toEqual(['order/b/2', 'order/b/3', 'order/b/4']);
    const again = await runCli(['effects', 'retry', 'order', 'a', ...redis]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has no failed effect');
    expect((await runCli(['effects', 'list', ...redis])).stdout).toContain('no failed effects');
    await gatekeeper.close();
  }, 60_000);
});
