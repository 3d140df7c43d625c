/**
 * The transition handler in Kafka members that are killed or paused (real processes): a member
 * killed (kill -9) inside a handler, and a member paused (SIGSTOP) past its session timeout while
 * its effects run. Every transition's effect runs at least once with the same key, in per-entity
 * order, and a partition's effects are started only by its current owner: the resumed member
 * starts none for the partitions it lost.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { demoStream } from '../../../src/demo/stream.ts';
import { partitionOfKey } from '../../../src/store/redis/partition-of-key.ts';
import { expectEffectsInOrder, type RecordedEffect } from '../../support/effect-scenarios.ts';
import { expectationFor } from './support/expected.ts';
import { eventMessage, produce } from './support/kafka.ts';
import { writeConfig } from './support/processes.ts';
import { useSharedBroker, waitFor } from './support/runtime.ts';

const MEMBER = fileURLToPath(new URL('./support/effects-member.ts', import.meta.url));
const PARTITIONS = 4;
const setUpTest = useSharedBroker();
const dir = mkdtempSync(join(tmpdir(), 'gk-effects-members-'));
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children) {
    child.kill('SIGCONT');
    child.kill('SIGKILL');
  }
  rmSync(dir, { recursive: true, force: true });
});

interface Line extends RecordedEffect {
  type: 'owned' | 'start' | 'ok';
  member: string;
  partitions?: number[];
}

function start(name: string, env: Record<string, string>) {
  const child = fork(MEMBER, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, GK_NAME: name, ...env },
    stdio: 'inherit',
  });
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, exited };
}

function read(file: string): Line[] {
  // A member may be mid-write while we read: only lines ended by their newline are complete.
  const text = readFileSync(file, 'utf8');
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const parsed = JSON.parse(line) as Line;
      return { ...parsed, ok: parsed.type === 'ok' };
    });
}

async function prepare(name: string) {
  const stream = demoStream({ entities: 300, seed: 41, duplicateRate: 0.1, illegalRate: 0.03 });
  const expected = await expectationFor(stream);
  const setup = await setUpTest(name, PARTITIONS);
  const configFile = writeConfig(
    setup.config({
      topics: { input: [setup.input], output: false, deadLetter: setup.deadLetter },
      limits: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, relayIdleMs: 50 },
    }),
  );
  const callsFile = join(dir, `${name}.ndjson`);
  writeFileSync(callsFile, '');
  const effectsDone = (lines: Line[]) => {
    const succeeded = new Set(lines.filter((line) => line.type === 'ok').map((line) => line.id));
    return [...expected.applied.values()].every((ids) => ids.every((id) => succeeded.has(id)));
  };
  return {
    stream,
    expected,
    setup,
    env: { GK_CONFIG: configFile, GK_CALLS: callsFile },
    callsFile,
    effectsDone,
  };
}

describe('effects in Kafka members that are killed or paused', () => {
  it('a member killed (kill -9) inside a handler: after another member takes over, every effect ran at least once with its key, in per-entity order', async () => {
    const { stream, expected, setup, env, callsFile, effectsDone } = await prepare('fx-kill');
    const first = start('first', { ...env, GK_DIE_AT: '200', GK_HANDLER_MS: '2' });
    await produce(setup.brokers, setup.input, stream.inputs.map(eventMessage));
    expect((await first.exited).signal).toBe('SIGKILL');
    const second = start('second', env);
    await waitFor('every effect to have run', () => Promise.resolve(effectsDone(read(callsFile))), 120_000);
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const lines = read(callsFile).filter((line) => line.type !== 'owned');
    expect(lines.filter((line) => line.member === 'first' && line.type === 'start').length).toBe(200);
    expectEffectsInOrder(
      lines.filter((line) => line.type === 'ok'),
      expected.applied,
    );
  }, 180_000);

  it('a member paused (SIGSTOP) past its session timeout: its partitions go to the other member, and once resumed it starts no effect of a partition it does not own', async () => {
    const { stream, expected, setup, env, callsFile, effectsDone } = await prepare('fx-paused');
    const paused = start('paused', { ...env, GK_HANDLER_MS: '20' });
    const other = start('other', { ...env, GK_HANDLER_MS: '20' });
    const owned = (member: string) =>
      read(callsFile)
        .filter((line) => line.type === 'owned' && line.member === member)
        .at(-1)?.partitions ?? [];
    await waitFor('both members to own partitions', () =>
      Promise.resolve(owned('paused').length > 0 && owned('other').length > 0),
    );
    await produce(setup.brokers, setup.input, stream.inputs.map(eventMessage));
    await waitFor('the paused member to run effects', () =>
      Promise.resolve(read(callsFile).some((line) => line.member === 'paused' && line.type === 'ok')),
    );
    const lost = owned('paused');
    paused.child.kill('SIGSTOP');
    await waitFor(
      'the other member to own every partition',
      () => Promise.resolve(owned('other').length === PARTITIONS),
      60_000,
    );
    await waitFor('every effect to have run', () => Promise.resolve(effectsDone(read(callsFile))), 120_000);
    const resumedAt = read(callsFile).length;
    paused.child.kill('SIGCONT');
    // It learns it lost its partitions and rejoins; effects it had read before the pause must not start.
    await waitFor(
      'the resumed member to be assigned again',
      () =>
        Promise.resolve(
          read(callsFile)
            .slice(resumedAt)
            .some((line) => line.type === 'owned' && line.member === 'paused'),
        ),
      60_000,
    );
    paused.child.kill('SIGTERM');
    other.child.kill('SIGTERM');
    expect((await paused.exited).code).toBe(0);
    expect((await other.exited).code).toBe(0);

    const lines = read(callsFile);
    // Walk the file: a member may start an effect only of a partition it was last assigned.
    const assigned = new Map<string, number[]>();
    const violations: string[] = [];
    lines.forEach((line, index) => {
      if (line.type === 'owned') assigned.set(line.member, line.partitions ?? []);
      if (line.type !== 'start') return;
      const partition = partitionOfKey(line.entity.slice(line.entity.indexOf('/') + 1), PARTITIONS);
      const mine = assigned.get(line.member) ?? [];
      if (!mine.includes(partition))
        violations.push(`#${index} ${line.member} started ${line.id} of partition ${partition}`);
    });
    expect(violations).toEqual([]);
    const afterResume = lines
      .slice(resumedAt)
      .filter((line) => line.member === 'paused' && line.type === 'start');
    expect(
      afterResume.filter((line) =>
        lost.includes(partitionOfKey(line.entity.slice(line.entity.indexOf('/') + 1), PARTITIONS)),
      ),
    ).toEqual([]);
    expectEffectsInOrder(
      lines.filter((line) => line.type === 'ok'),
      expected.applied,
    );
  }, 240_000);
});
