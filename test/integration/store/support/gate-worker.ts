/**
 * A gatekeeper process for the fencing and crash tests, run with `node --import tsx` through
 * child_process.fork. It gates a stream file against the Redis store like a consumer would: a
 * window of events in flight, a consumer offset (the lowest event not yet decided) saved in Redis
 * as it goes and read back on start, so a killed worker resumes with at-least-once redelivery.
 *
 * Environment: GK_PREFIX, GK_STREAM (JSON array of inputs), GK_REDIS_URL or GK_CLUSTER_NODES,
 * GK_CONCURRENCY (default 32), GK_WAIT_FOR_GO=1 (start only on a {type:'go'} message),
 * GK_USE_OFFSET=1 (resume from the saved offset), GK_HOLD_AT=n (stop taking inputs at index n and
 * keep reporting progress until killed: a worker that is to be killed cannot finish first).
 * Messages to the parent: ready, progress { committed }, done { processed, conflicts, unavailable }.
 */
import { readFileSync } from 'node:fs';
import { Cluster, Redis } from 'ioredis';
import machines from '../../../../machines/index.ts';
import { StoreUnavailableError } from '../../../../src/core/errors.ts';
import { createGatekeeper } from '../../../../src/index.ts';
import type { EntityStore } from '../../../../src/store/entity-store.ts';
import { redisStore } from '../../../../src/store/redis/index.ts';

export type WorkerMessage =
  | { type: 'ready' }
  | { type: 'progress'; committed: number }
  | { type: 'done'; processed: number; conflicts: number; unavailable: number };

const env = process.env;
const prefix = required('GK_PREFIX');
const inputs = JSON.parse(readFileSync(required('GK_STREAM'), 'utf8')) as unknown[];
const concurrency = Number(env.GK_CONCURRENCY ?? 32);
const clusterNodes = env.GK_CLUSTER_NODES?.split(',');
const target = clusterNodes
  ? { cluster: { nodes: clusterNodes } }
  : { url: env.GK_REDIS_URL ?? 'redis://127.0.0.1:6379' };

const redis = redisStore({ ...target, prefix, outbox: true, historyLimit: 1_000 });
let conflicts = 0;
let unavailable = 0;
/** The Redis store, counting version conflicts (proof that the two processes really raced). */
const store: EntityStore = {
  load: (ref) => redis.load(ref),
  commit: async (ref, commit) => {
    const result = await redis.commit(ref, commit);
    if (!result.ok) conflicts += 1;
    return result;
  },
  recordDeadLetter: (letter) => redis.recordDeadLetter(letter),
  history: (ref) => redis.history(ref),
  stalled: (before, limit) => redis.stalled(before, limit),
  parked: (limit) => redis.parked(limit),
  versions: () => redis.versions(),
  scan: (aggregate, visit) => redis.scan(aggregate, visit),
  readOutbox: (limit) => redis.readOutbox(limit),
  ackOutbox: (ids) => redis.ackOutbox(ids),
  readDeadLetters: (limit) => redis.readDeadLetters(limit),
  ackDeadLetters: (ids) => redis.ackDeadLetters(ids),
  close: () => redis.close(),
};
const gk = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
// The consumer offset is the test's own key, inside the test's prefix so cleanup finds it.
const offsetKey = `{${prefix}}:test-consumer-offset`;
const admin = clusterNodes
  ? new Cluster(
      clusterNodes.map((node) => ({ host: node.split(':')[0] as string, port: Number(node.split(':')[1]) })),
    )
  : new Redis(target.url as string);

function required(name: string): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

async function handleUntilDecided(input: unknown): Promise<void> {
  // A consumer redelivers what failed; the store being briefly unreachable is the expected failure.
  for (let attempt = 0; attempt < 600; attempt += 1) {
    try {
      await gk.handle(input);
      return;
    } catch (error) {
      if (!(error instanceof StoreUnavailableError)) throw error;
      unavailable += 1;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw new Error('the store stayed unavailable for 30 s');
}

async function main(): Promise<void> {
  await redis.ready();
  const start = env.GK_USE_OFFSET === '1' ? Number((await admin.get(offsetKey)) ?? 0) : 0;
  if (env.GK_WAIT_FOR_GO === '1') {
    const go = new Promise<void>((resolve) =>
      process.on('message', (message: { type?: string }) => message.type === 'go' && resolve()),
    );
    await send({ type: 'ready' });
    await go;
  }
  const done = new Uint8Array(inputs.length);
  let next = start;
  let committed = start;
  let saving: Promise<unknown> | undefined;
  let processed = 0;
  const saveOffset = () => {
    if (saving || env.GK_USE_OFFSET !== '1') return;
    const value = committed;
    saving = admin.set(offsetKey, value).finally(() => {
      saving = undefined;
      void send({ type: 'progress', committed: value });
    });
  };
  const holdAt = env.GK_HOLD_AT === undefined ? inputs.length : Number(env.GK_HOLD_AT);
  let holding: Promise<never> | undefined;
  const hold = () =>
    (holding ??= new Promise<never>(() => {
      // Progress keeps coming (and keeps the process alive) until the parent's SIGKILL.
      setInterval(saveOffset, 20);
    }));
  const pump = async () => {
    while (next < inputs.length) {
      if (next >= holdAt) await hold();
      const index = next;
      next += 1;
      await handleUntilDecided(inputs[index]);
      processed += 1;
      done[index] = 1;
      while (committed < inputs.length && done[committed] === 1) committed += 1;
      if (processed % 16 === 0) saveOffset();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, pump));
  await saving;
  if (env.GK_USE_OFFSET === '1') await admin.set(offsetKey, inputs.length);
  await gk.close();
  await admin.quit();
  await send({ type: 'done', processed, conflicts, unavailable });
}

main().then(
  () => {
    process.disconnect?.();
  },
  (error: unknown) => {
    process.stderr.write(
      `gate-worker failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    process.exit(1);
  },
);
