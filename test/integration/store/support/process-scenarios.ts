/**
 * The multi-process scenarios, written once for a standalone Redis and a Redis Cluster: fencing
 * (two processes, one stream, at the same time) and crash (SIGKILL at random moments, restart from
 * the saved consumer offset). Both end by checking the store against in-order processing.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { Random } from '../../../../src/demo/random.ts';
import { redisStore } from '../../../../src/store/redis/index.ts';
import { checkStore, expectInOrder, makeStream } from './in-order-check.ts';
import { startWorker, type RunningWorker } from './workers.ts';

/** Where the workers and the checking store connect. */
export type RedisTarget = { url: string } | { nodes: string[] };

function targetEnv(target: RedisTarget): Record<string, string> {
  return 'url' in target ? { GK_REDIS_URL: target.url } : { GK_CLUSTER_NODES: target.nodes.join(',') };
}

async function checkAgainstInOrder(
  target: RedisTarget,
  prefix: string,
  stream: ReturnType<typeof makeStream>,
): Promise<void> {
  const store = redisStore({
    ...('url' in target ? { url: target.url } : { cluster: { nodes: target.nodes } }),
    prefix,
  });
  try {
    await checkStore(store, stream, await expectInOrder(stream));
  } finally {
    await store.close();
  }
}

function writeStream(prefix: string, inputs: unknown[]): string {
  const file = join(tmpdir(), `${prefix}.json`);
  writeFileSync(file, JSON.stringify(inputs));
  return file;
}

/** Writes a demo stream to a file the workers read, runs `scenario` with both, then removes the file. */
async function withStreamFile(
  prefix: string,
  options: { entities: number; seed: number },
  scenario: (stream: ReturnType<typeof makeStream>, file: string) => Promise<void>,
): Promise<void> {
  const stream = makeStream(options);
  const file = writeStream(prefix, stream.inputs);
  try {
    await scenario(stream, file);
  } finally {
    rmSync(file, { force: true });
  }
}

export function twoProcessesOneStream(target: RedisTarget, prefix: string, entities: number): Promise<void> {
  return withStreamFile(prefix, { entities, seed: 7 }, (stream, file) =>
    twoProcesses(target, prefix, stream, file),
  );
}

async function twoProcesses(
  target: RedisTarget,
  prefix: string,
  stream: ReturnType<typeof makeStream>,
  file: string,
): Promise<void> {
  const env = {
    ...targetEnv(target),
    GK_PREFIX: prefix,
    GK_STREAM: file,
    GK_WAIT_FOR_GO: '1',
    GK_CONCURRENCY: '16',
  };
  const workers = [startWorker(env), startWorker(env)];
  await Promise.all(workers.map((w) => w.message('ready')));
  for (const worker of workers) worker.child.send({ type: 'go' });
  const results = await Promise.all(workers.map((w) => w.message('done')));
  expect((await Promise.all(workers.map((w) => w.exited))).map((e) => e.code)).toEqual([0, 0]);
  // Both processes decided every input; the race is real only if commits actually collided.
  expect(results.map((r) => r.processed)).toEqual([stream.inputs.length, stream.inputs.length]);
  expect(results[0]!.conflicts + results[1]!.conflicts).toBeGreaterThan(0);
  await checkAgainstInOrder(target, prefix, stream);
}

export function killedAndRestarted(
  target: RedisTarget,
  prefix: string,
  entities: number,
  killCount: number,
): Promise<void> {
  return withStreamFile(prefix, { entities, seed: 11 }, (stream, file) =>
    killRestartLoop(target, prefix, stream, file, killCount),
  );
}

async function killRestartLoop(
  target: RedisTarget,
  prefix: string,
  stream: ReturnType<typeof makeStream>,
  file: string,
  killCount: number,
): Promise<void> {
  const env = {
    ...targetEnv(target),
    GK_PREFIX: prefix,
    GK_STREAM: file,
    GK_USE_OFFSET: '1',
    GK_CONCURRENCY: '32',
  };
  // Kill points spread over the stream, each at a random offset within its stretch.
  const random = new Random(Date.now() % 2 ** 31);
  const killAt = Array.from({ length: killCount }, (_, i) =>
    Math.floor(((i + random.next()) / (killCount + 1)) * stream.inputs.length),
  );
  const kills: number[] = [];
  for (let run = 0; run <= killCount; run += 1) {
    const threshold = killAt[run];
    // Past the kill point by a few windows: the kill still lands while work is in flight, but a
    // worker faster than the progress messages waits for it instead of finishing the stream.
    const hold: Record<string, string> =
      threshold === undefined ? {} : { GK_HOLD_AT: String(threshold + 4 * 32) };
    const worker: RunningWorker = startWorker({ ...env, ...hold });
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
  expect(kills).toHaveLength(killCount);
  expect(kills.every((at) => at < stream.inputs.length)).toBe(true);
  await checkAgainstInOrder(target, prefix, stream);
}
