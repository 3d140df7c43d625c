/**
 * The reading commands (inspect, history, stalled) only read: they answer on a Redis that is out
 * of memory, on a replica and for an ACL user who may only read, where every write is refused.
 * Writing commands on the same servers fail with Redis' reason, not a stack.
 */
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { captureIO, runCli } from '../../support/cli-io.ts';
import { sequenced } from '../../support/events.ts';
import { startOwnRedis, type OwnRedis } from './support/redis-servers.ts';

const STALL_MACHINES = fileURLToPath(new URL('./support/stall-machines.ts', import.meta.url));
const order = sequenced('order', 'o1');
const gap = sequenced('order', 'o2');
const STREAM = [
  order(1, 'order.placed', { total: 5 }),
  order(2, 'order.paid', { amount: 5 }),
  gap(2, 'order.paid', { amount: 5 }),
]
  .map((event) => JSON.stringify(event))
  .join('\n');

/** inspect, history and stalled against `url` print what the stream above left in Redis. */
async function expectReadsWork(url: string): Promise<void> {
  const redis = ['--redis', url, '--redis-prefix', 'ro'];
  const inspect = await runCli(['inspect', 'order', 'o1', '--json', ...redis]);
  expect(inspect.stderr).toBe('');
  expect(inspect.code).toBe(0);
  expect(JSON.parse(inspect.stdout)).toMatchObject({ state: 'paid', lastSeq: 2 });
  const history = await runCli(['history', 'order', 'o1', '--format', 'json', ...redis]);
  expect(history.stderr).toBe('');
  expect(history.code).toBe(0);
  expect(history.stdout).toContain('order.paid');
  const stalled = await runCli(['stalled', '--json', '--machines', STALL_MACHINES, ...redis]);
  expect(stalled.stderr).toBe('');
  expect(stalled.code).toBe(0);
  expect(JSON.parse(stalled.stdout.trim())).toMatchObject({ aggregate: 'order', key: 'o2' });
  const parked = await runCli(['stalled', '--parked', ...redis]);
  expect(parked.code).toBe(0);
}

/** The web view (without --demo) searches an entity and lists stalled ones from `url`. */
async function expectWebViewWorks(url: string): Promise<void> {
  const io = captureIO();
  const serving = main(
    ['ui', '--port', '0', '--machines', STALL_MACHINES, '--redis', url, '--redis-prefix', 'ro'],
    io,
  );
  try {
    const [, address] = await io.waitFor('out', /gatekeeper ui: (http:\/\/\S+)/);
    const found = (await (await fetch(`${address}api/entity?key=o1`)).json()) as {
      matches: { aggregate: string; inspection?: { state: string } }[];
    };
    expect(found.matches).toEqual([expect.objectContaining({ aggregate: 'order' })]);
    const stats = (await (await fetch(`${address}api/stats`)).json()) as {
      attention: { stalled: { key: string }[] };
    };
    expect(stats.attention.stalled.map((entry) => entry.key)).toEqual(['o2']);
  } finally {
    io.interrupt();
    expect(await serving).toBe(0);
  }
  expect(io.err()).toBe('');
}

describe('reading commands on a Redis that refuses writes', () => {
  let primary: OwnRedis;
  let admin: Redis;
  beforeAll(async () => {
    primary = await startOwnRedis({ extraArgs: ['--maxmemory', '4mb'] });
    admin = new Redis(primary.url);
    const gated = await runCli(['check', '--redis', primary.url, '--redis-prefix', 'ro'], STREAM);
    expect(gated.code).toBe(0);
  }, 60_000);
  afterAll(async () => {
    await admin.quit();
    await primary.destroy();
  });

  it('inspect, history and stalled answer for an ACL user who may only read; check is refused with the reason', async () => {
    await admin.call('ACL', 'SETUSER', 'reader', 'on', '>read-only', '~*', '&*', '+@read', '+@connection');
    const url = primary.url.replace('redis://', 'redis://reader:read-only@');
    await expectReadsWork(url);
    const write = await runCli(['check', '--redis', url, '--redis-prefix', 'ro'], STREAM);
    expect(write.code).toBe(1);
    expect(write.stderr).toMatch(/NOPERM|maxmemory-policy/);
    expect(write.stderr).not.toContain('read-only@');
  });

  it('inspect, history, stalled and the web view answer on a replica; check is refused at start as writing to a replica', async () => {
    const replica = await startOwnRedis({ extraArgs: ['--replicaof', '127.0.0.1', String(primary.port)] });
    const probe = new Redis(replica.url);
    try {
      for (let attempt = 0; attempt < 200; attempt += 1) {
        const info = await probe.info('replication');
        if (info.includes('master_link_status:up') && (await probe.exists('{ro}:meta')) === 1) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await expectReadsWork(replica.url);
      await expectWebViewWorks(replica.url);
      const write = await runCli(['check', '--redis', replica.url, '--redis-prefix', 'ro'], STREAM);
      expect(write.code).toBe(1);
      expect(write.stderr).toContain(`is a read-only replica (of 127.0.0.1:${primary.port})`);
      expect(write.stdout).toBe('');
    } finally {
      await probe.quit();
      await replica.destroy();
    }
  }, 60_000);

  it('inspect, history and stalled answer on a Redis that is out of memory; check is refused with OOM', async () => {
    // Fill the 4 MB limit (noeviction) until Redis refuses writes, big ones first, then small
    // ones: a refused big SET may have been refused for its own query buffer, which Redis frees
    // soon after (leaving room for a commit's small writes). Topped up again right before the
    // check, for the same reason.
    let index = 0;
    const fill = async (size: number) => {
      let refused = '';
      const chunk = 'x'.repeat(size);
      for (let tries = 0; tries < 5_000 && refused === ''; tries += 1, index += 1) {
        await admin.set(`filler:${index}`, chunk).catch((error: Error) => {
          refused = error.message;
        });
      }
      expect(refused).toMatch(/^OOM/);
    };
    await fill(256 * 1024);
    await fill(64);
    try {
      await expectReadsWork(primary.url);
      await fill(64);
      const write = await runCli(['check', '--redis', primary.url, '--redis-prefix', 'ro'], STREAM);
      expect(write.code).not.toBe(0);
      expect(write.stderr).toContain('OOM');
    } finally {
      for (let filler = 0; filler <= index; filler += 1) await admin.del(`filler:${filler}`);
    }
  });
});
