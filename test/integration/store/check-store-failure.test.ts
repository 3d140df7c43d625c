/**
 * `check --redis` while its Redis fails mid-stream — killed, paused (SIGSTOP), its connection
 * killed (CLIENT KILL), out of memory — with input arriving slowly on stdin: every decision the
 * store committed is either printed or named as an "unknown" line, nothing is printed as applied
 * that the store does not hold, the run ends with a message and the documented exit code (3), and
 * no promise rejects unhandled (vitest fails the run on one).
 */
import type { PassThrough } from 'node:stream';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/main.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { captureIO } from '../../support/cli-io.ts';
import { startOwnRedis, uniquePrefix, type OwnRedis } from './support/redis-servers.ts';

const ENTITIES = 200;
const ROUNDS = 12;

/** Round r of every valve, in turn: installed, then opened / closed alternately. */
function streamLines(): string[] {
  const lines: string[] = [];
  for (let seq = 1; seq <= ROUNDS; seq += 1) {
    for (let entity = 0; entity < ENTITIES; entity += 1) {
      const type = seq === 1 ? 'valve.installed' : seq % 2 === 0 ? 'valve.opened' : 'valve.closed';
      const payload = seq === 1 ? { site: 'north' } : seq % 2 === 0 ? { flow: 50 } : {};
      lines.push(
        JSON.stringify({
          id: `v${entity}-${seq}`,
          aggregate: 'valve',
          key: `v${entity}`,
          seq,
          type,
          payload,
        }),
      );
    }
  }
  return lines;
}

interface Printed {
  id: string | null;
  key: string | null;
  seq: number | null;
  outcome: string;
  line?: number;
}

/**
 * Feeds the stream slowly (50 lines every 5 ms) into `check`, calls `fault` once 400 outcome lines
 * were printed, and returns what check printed and its exit code.
 */
async function checkThrough(
  own: OwnRedis,
  prefix: string,
  fault: () => Promise<void>,
): Promise<{ code: number; printed: Printed[]; stderr: string }> {
  const io = captureIO();
  const stdin = io.stdin as PassThrough;
  const running = main(
    ['check', '--redis', own.url, '--redis-prefix', prefix, '--redis-timeout', '1000'],
    io,
  );
  let finished = false;
  void running.finally(() => (finished = true));
  const lines = streamLines();
  let faulted = false;
  const faultOnceEnough = async () => {
    if (faulted || io.out().split('\n').length <= 400) return;
    faulted = true;
    await fault();
  };
  for (let at = 0; at < lines.length && !finished; at += 50) {
    stdin.write(`${lines.slice(at, at + 50).join('\n')}\n`);
    await new Promise((resolve) => setTimeout(resolve, 5));
    await faultOnceEnough();
  }
  // stdin stays open until the fault happened: check cannot finish before it.
  while (!faulted && !finished) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    await faultOnceEnough();
  }
  stdin.end();
  const code = await running;
  expect(faulted, `exit ${code}: ${io.err()} after ${io.out().split('\n').length} lines`).toBe(true);
  const printed = io
    .out()
    .trim()
    .split('\n')
    .map((text) => JSON.parse(text) as Printed);
  return { code, printed, stderr: io.err() };
}

/**
 * Every committed decision was printed or named unknown; nothing printed applied is missing (and
 * a "not-committed" line is not counted as possibly committed).
 */
async function expectAccountComplete(url: string, prefix: string, printed: Printed[]): Promise<void> {
  const appliedSeq = new Map<string, number>();
  const unknownKeys = new Set<string>();
  for (const line of printed) {
    if (line.key === null) continue;
    if (line.outcome === 'applied')
      appliedSeq.set(line.key, Math.max(appliedSeq.get(line.key) ?? 0, line.seq ?? 0));
    if (line.outcome === 'unknown') unknownKeys.add(line.key);
  }
  const store = redisStore({ url, prefix, readOnly: true });
  try {
    for (let entity = 0; entity < ENTITIES; entity += 1) {
      const key = `v${entity}`;
      const stored = (await store.load({ aggregate: 'valve', key }))?.lastSeq ?? 0;
      const reported = appliedSeq.get(key) ?? 0;
      expect(stored, `valve ${key}`).toBeGreaterThanOrEqual(reported);
      if (stored > reported)
        expect(unknownKeys.has(key), `valve ${key}: seq ${stored} stored, ${reported} printed`).toBe(true);
    }
  } finally {
    await store.close();
  }
  // Printed in input order: the lines' first outcomes follow the stream (each valve's seq r after
  // every valve's seq r - 1).
  const firsts = printed.filter((line, index) => index === 0 || printed[index - 1]?.id !== line.id);
  const order = firsts.map((line) => ((line.seq ?? 0) - 1) * ENTITIES + Number(line.key?.slice(1)));
  expect(order).toEqual([...order].sort((a, b) => a - b));
}

function expectStoppedClearly(result: { code: number; stderr: string; printed: Printed[] }): void {
  expect(result.code).toBe(3);
  expect(result.stderr).toMatch(/^gatekeeper check: stopped at line \d+: redis store: /);
  expect(result.stderr).toContain('Every outcome decided was printed');
  expect(result.stderr).not.toMatch(/\n\s+at /);
  const failed = result.printed.filter(
    (line) => line.outcome === 'unknown' || line.outcome === 'not-committed',
  );
  expect(failed.length).toBeGreaterThan(0);
  for (const line of failed) expect(line.line).toBeGreaterThan(0);
}

async function serverPid(url: string): Promise<number> {
  const admin = new Redis(url);
  try {
    return Number(/process_id:(\d+)/.exec(await admin.info('server'))?.[1]);
  } finally {
    await admin.quit();
  }
}

describe('check --redis when Redis fails mid-stream', () => {
  let own: OwnRedis | undefined;
  afterEach(async () => {
    await own?.destroy();
    own = undefined;
  });

  it('killed (SIGKILL): committed decisions are printed or named unknown, exit 3', async () => {
    own = await startOwnRedis({ durable: true });
    const server = own;
    const prefix = uniquePrefix('killed');
    const pid = await serverPid(server.url);
    const result = await checkThrough(server, prefix, () => {
      process.kill(pid, 'SIGKILL');
      return Promise.resolve();
    });
    expectStoppedClearly(result);
    await server.start();
    await expectAccountComplete(server.url, prefix, result.printed);
  }, 60_000);

  it('paused (SIGSTOP) past the deadline: the run ends within it, exit 3, and the account is complete', async () => {
    own = await startOwnRedis();
    const server = own;
    const prefix = uniquePrefix('paused');
    const pid = await serverPid(server.url);
    try {
      const result = await checkThrough(server, prefix, () => {
        process.kill(pid, 'SIGSTOP');
        return Promise.resolve();
      });
      expectStoppedClearly(result);
      expect(result.stderr).toContain('no answer within 1000 ms');
      process.kill(pid, 'SIGCONT');
      await expectAccountComplete(server.url, prefix, result.printed);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }, 60_000);

  it('out of memory: exit 3 naming OOM, and the account is complete', async () => {
    own = await startOwnRedis();
    const server = own;
    const prefix = uniquePrefix('oom');
    const admin = new Redis(server.url);
    try {
      const result = await checkThrough(server, prefix, async () => {
        await admin.config('SET', 'maxmemory', '1');
      });
      expectStoppedClearly(result);
      expect(result.stderr).toContain('OOM');
      // Redis refuses a script at its first write: those decisions are known not committed.
      expect(result.stderr).toContain('refused by the store and not committed');
      expect(result.printed.filter((line) => line.outcome === 'unknown')).toEqual([]);
      await admin.config('SET', 'maxmemory', '0');
      await expectAccountComplete(server.url, prefix, result.printed);
    } finally {
      await admin.quit();
    }
  }, 60_000);

  it('flushed mid-stream: the lost data is reported, the failed lines are not-committed, exit 3', async () => {
    own = await startOwnRedis();
    const server = own;
    const prefix = uniquePrefix('flushed');
    const admin = new Redis(server.url);
    try {
      const result = await checkThrough(server, prefix, async () => {
        await admin.flushall(); // our own throw-away server
      });
      expectStoppedClearly(result);
      expect(result.stderr).toContain(`lost data of prefix "${prefix}"`);
      const failed = result.printed.filter((line) => line.outcome === 'not-committed');
      expect(failed.length).toBeGreaterThan(0);
      expect(result.printed.filter((line) => line.outcome === 'unknown')).toEqual([]);
    } finally {
      await admin.quit();
    }
  }, 60_000);

  it('its connection killed (CLIENT KILL): every committed decision printed or named unknown', async () => {
    own = await startOwnRedis();
    const server = own;
    const prefix = uniquePrefix('client-kill');
    const admin = new Redis(server.url);
    try {
      const result = await checkThrough(server, prefix, async () => {
        const clients = (await admin.client('LIST')) as string;
        for (const id of [...clients.matchAll(/^id=(\d+) .* name=gatekeeper /gm)].map((match) => match[1]))
          await admin.client('KILL', 'ID', id as string);
      });
      // A kill between two commits loses nothing; one during a commit stops the run.
      expect([0, 3]).toContain(result.code);
      if (result.code === 3) expectStoppedClearly(result);
      else expect(result.printed.filter((line) => line.outcome === 'unknown')).toEqual([]);
      await expectAccountComplete(server.url, prefix, result.printed);
    } finally {
      await admin.quit();
    }
  }, 60_000);
});
