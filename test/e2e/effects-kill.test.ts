/**
 * kill -9 and the transition handler on Redis: a process killed between the commit and the handler
 * (its effects queued, none run) and a process killed inside a handler call. After a restart every
 * transition's effect ran at least once, with the same idempotency key, in per-entity order, and
 * nothing was lost.
 */
import { fork } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { expectEffectsInOrder, type RecordedEffect } from '../support/effect-scenarios.ts';
import { orderHistory } from '../support/events.ts';
import { deletePrefixAt, REDIS_URL, uniquePrefix } from '../integration/store/support/redis-servers.ts';

const WORKER = fileURLToPath(new URL('./support/effects-worker.ts', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  done: boolean;
}

function runWorker(env: Record<string, string>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, ...env },
      stdio: 'inherit',
    });
    let done = false;
    child.on('message', (message: { type?: string }) => {
      if (message.type === 'done') done = true;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, done }));
  });
}

describe('kill -9 and effects on Redis', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gk-effects-kill-'));
  const prefixes: string[] = [];
  afterEach(async () => {
    for (const prefix of prefixes.splice(0)) await deletePrefixAt(REDIS_URL, prefix);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const scenario = async (name: string, first: Record<string, string>) => {
    const prefix = uniquePrefix(name);
    prefixes.push(prefix);
    const keys = Array.from({ length: 60 }, (_, i) => `k-${i}`);
    const histories = keys.map((key) => orderHistory(key));
    // Interleaved across entities, each entity's events in order.
    const events = [0, 1, 2, 3].flatMap((step) => histories.map((history) => history[step]));
    const eventsFile = join(dir, `${name}-events.json`);
    const callsFile = join(dir, `${name}-calls.ndjson`);
    writeFileSync(eventsFile, JSON.stringify(events));
    writeFileSync(callsFile, '');
    const env = { GK_REDIS_URL: REDIS_URL, GK_PREFIX: prefix, GK_EVENTS: eventsFile, GK_CALLS: callsFile };
    const killed = await runWorker({ ...env, ...first });
    expect(killed.signal).toBe('SIGKILL');
    const before = readFileSync(callsFile, 'utf8').trim().split('\n').filter(Boolean).length;
    const restarted = await runWorker({ ...env, GK_MODE: 'finish' });
    expect(restarted).toMatchObject({ code: 0, done: true });
    const calls = readFileSync(callsFile, 'utf8')
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as RecordedEffect);
    const expected = new Map(
      histories.map((history) => [`order/${history[0]!.key}`, history.map((event) => event.id)]),
    );
    expectEffectsInOrder(calls, expected);
    return { before, calls };
  };

  it('killed between the commit and the handler: after the restart every queued effect runs, in order, with its key', async () => {
    const { before, calls } = await scenario('fx-commit', { GK_MODE: 'commit-only' });
    expect(before).toBe(0);
    expect(calls.filter((call) => call.ok)).toHaveLength(240);
  }, 120_000);

  it('killed inside a handler call: the interrupted effect and everything after it run again after the restart, in order, with the same keys', async () => {
    const { before, calls } = await scenario('fx-in-handler', {
      GK_MODE: 'die-in-handler',
      GK_DIE_AT: '100',
    });
    // Call 100 started with at most 7 others in flight (concurrency 8): 92 or more had finished.
    expect(before).toBeGreaterThanOrEqual(93);
    expect(before).toBeLessThan(240);
    const interrupted = calls.find((call) => !call.ok) as RecordedEffect;
    // The interrupted transition ran again after the restart and succeeded.
    expect(calls.some((call) => call.ok && call.idempotencyKey === interrupted.idempotencyKey)).toBe(true);
  }, 120_000);
});
