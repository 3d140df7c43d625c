import { fileURLToPath } from 'node:url';
import { runCli } from '../../support/cli-io.ts';
import { describe, expect, it } from 'vitest';

const fixture = (name: string) => fileURLToPath(new URL(`../../fixtures/${name}`, import.meta.url));

const run = runCli;

const lines = (text: string) =>
  text
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe('gatekeeper check', () => {
  it('prints one NDJSON line per outcome as it happens, for a user machine module with no helper', async () => {
    const { code, stdout } = await run([
      'check',
      '--machines',
      fixture('loan-machine.mjs'),
      fixture('loan-events.ndjson'),
      '--final',
    ]);
    expect(code).toBe(0);
    const out = lines(stdout).map((l) => [
      l.id ?? l.key,
      l.outcome ?? 'final',
      l.reason ?? l.state,
      l.state,
      l.line ?? null,
    ]);
    expect(out).toEqual([
      ['e2', 'buffered', 'seq-gap', 'requested', null],
      ['e1', 'applied', 'legal', 'approved', null],
      ['e2', 'applied', 'drained', 'paidOut', null],
      ['e1', 'discarded', 'stale-seq', 'paidOut', null],
      [null, 'rejected', 'invalid-envelope', null, 4],
      ['e3', 'rejected', 'illegal-at-seq', 'requested', null],
      ['e4', 'rejected', 'unknown-aggregate', null, null],
      ['e5', 'buffered', 'seq-gap', 'requested', null],
      ['L1', 'final', 'paidOut', 'paidOut', null],
      ['L2', 'final', 'requested', 'requested', null],
      ['L3', 'final', 'requested', 'requested', null],
    ]);
    const finals = lines(stdout).filter((l) => l.final === true);
    expect(finals.map((f) => [f.key, f.seq, f.buffered])).toEqual([
      ['L1', 2, 0],
      ['L2', 1, 0],
      ['L3', 0, 1],
    ]);
  });

  it('reads stdin when no file is given and explains a non-JSON line with its number', async () => {
    const { code, stdout } = await run(['check', '--machines', fixture('loan-machine.mjs')], '{"broken":\n');
    expect(code).toBe(0);
    const [line] = lines(stdout);
    expect(line).toMatchObject({ outcome: 'rejected', reason: 'invalid-envelope', line: 1, id: null });
    expect(String(line?.detail)).toContain('line 1 is not JSON');
  });

  it('fails with exit code 1 and a clear message when the machines module does not exist', async () => {
    const { code, stderr } = await run(['check', '--machines', '/nonexistent/machines.mjs']);
    expect(code).toBe(1);
    expect(stderr).toContain('machines module not found');
  });

  it('answers an unknown flag with usage and exit code 2', async () => {
    const { code, stderr } = await run(['check', '--bogus']);
    expect(code).toBe(2);
    expect(stderr).toContain('Usage: gatekeeper check');
  });
});

describe('gatekeeper analyze and demo', () => {
  it('warns about the valve cycle', async () => {
    const { code, stdout } = await run(['analyze']);
    expect(code).toBe(0);
    expect(stdout).toContain('warning: cycle valve.closed → valve.open');
  });

  it('runs a small demo whose every entity matches in-order processing', async () => {
    const { code, stdout } = await run(['demo', '--entities', '300', '--json']);
    expect(code).toBe(0);
    const summary = JSON.parse(stdout) as {
      matching: number;
      entities: number;
      byReason: Record<string, Record<string, number>>;
    };
    expect(summary.matching).toBe(300);
    expect(summary.byReason.applied?.drained).toBeGreaterThan(0);
  });
});
