/**
 * Memory as entities grow: the gatekeeper on the Redis store is fed demo-stream entities in chunks
 * (new keys each chunk) and, at checkpoints, the process's resident memory and Redis's used memory
 * are read. The process should stay flat (idle entities are evicted; their state is in Redis) and
 * Redis should grow by a fixed amount per idle entity. Runs on a redis-server of its own (started
 * and stopped through scripts/redis/), so the figures are not mixed with other data.
 *
 *   node --expose-gc --import tsx bench/redis-store.ts --memory [--max-entities 1000000]
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import machines from '../machines/index.ts';
import { createGatekeeper } from '../src/index.ts';
import { demoStream } from '../src/demo/stream.ts';
import { redisStore } from '../src/store/redis/index.ts';
import { fmt } from './stats.ts';

export interface RedisMemoryOptions {
  /** Entities at the last checkpoint (default 300,000; the full run is 1,000,000). */
  maxEntities?: number;
  /** Entities per chunk of new keys (default 10,000). */
  chunk?: number;
  concurrency?: number;
  /** Redis to use instead of starting one (its used_memory must not move for other reasons). */
  url?: string;
  log?: (line: string) => void;
}

export interface MemoryCheckpoint {
  entities: number;
  records: number;
  rssMb: number;
  /** V8 heap in use after a full GC (with --expose-gc): what the process really holds. */
  heapUsedMb: number;
  /** V8 heap committed: RSS follows this, and V8 keeps it grown once eviction churn has started. */
  heapTotalMb: number;
  externalMb: number;
  residentEntities: number;
  redisUsedMb: number;
  redisBytesPerEntity: number;
}

export interface RedisMemoryFigures {
  checkpoints: MemoryCheckpoint[];
  /** Process RSS at the last checkpoint over RSS at the first (target ≤ 1.2). */
  rssGrowth: number;
  /** Heap in use after GC at the last checkpoint over the first. */
  heapUsedGrowth: number;
  /** Redis used memory per idle entity at the last checkpoint (entity hash + history list). */
  redisBytesPerIdleEntity: number;
  eventsPerSec: number;
}

const SCRIPTS = fileURLToPath(new URL('../scripts/redis/', import.meta.url));

export async function benchRedisMemory(options: RedisMemoryOptions = {}): Promise<RedisMemoryFigures> {
  const maxEntities = options.maxEntities ?? 300_000;
  const chunk = options.chunk ?? 10_000;
  const concurrency = options.concurrency ?? 256;
  const log = options.log ?? ((line: string) => console.log(line));
  const checkpoints = checkpointsUpTo(maxEntities);
  const own = options.url === undefined ? startServer() : undefined;
  const url = options.url ?? (own as { url: string }).url;
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) log('  (run node with --expose-gc for steadier heap figures)');

  const admin = new Redis(url);
  const store = redisStore({ url, prefix: `mem-${process.pid}`, outbox: false });
  const gatekeeper = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
  const results: MemoryCheckpoint[] = [];
  try {
    await store.ready();
    const usedBefore = await usedMemory(admin);
    log(
      `redis store memory: ${fmt(maxEntities)} entities in chunks of ${fmt(chunk)}, outbox off, history 100, at ${url}`,
    );
    let entities = 0;
    let records = 0;
    const started = performance.now();
    for (let index = 0; entities < maxEntities; index += 1) {
      const inputs = chunkInputs(index, Math.min(chunk, maxEntities - entities));
      await feedWindow(inputs, concurrency, (input) => gatekeeper.handle(input));
      entities += Math.min(chunk, maxEntities - entities);
      records += inputs.length;
      if (entities >= (checkpoints[results.length] ?? Number.POSITIVE_INFINITY)) {
        gc?.();
        const memory = process.memoryUsage();
        const used = await usedMemory(admin);
        const checkpoint: MemoryCheckpoint = {
          entities,
          records,
          rssMb: round1(memory.rss / 2 ** 20),
          heapUsedMb: round1(memory.heapUsed / 2 ** 20),
          heapTotalMb: round1(memory.heapTotal / 2 ** 20),
          externalMb: round1(memory.external / 2 ** 20),
          residentEntities: gatekeeper.residentCount(),
          redisUsedMb: round1(used / 2 ** 20),
          redisBytesPerEntity: Math.round((used - usedBefore) / entities),
        };
        results.push(checkpoint);
        log(
          `  ${fmt(entities).padStart(9)} entities  rss ${fmt(checkpoint.rssMb).padStart(5)} MB  ` +
            `heap used ${fmt(checkpoint.heapUsedMb).padStart(5)} / committed ${fmt(checkpoint.heapTotalMb).padStart(5)} MB  ` +
            `resident ${fmt(checkpoint.residentEntities)}  redis ${fmt(checkpoint.redisUsedMb)} MB (${fmt(checkpoint.redisBytesPerEntity)} B/entity)`,
        );
      }
    }
    const seconds = (performance.now() - started) / 1000;
    const first = results[0] as MemoryCheckpoint;
    const last = results[results.length - 1] as MemoryCheckpoint;
    return {
      checkpoints: results,
      rssGrowth: Number((last.rssMb / first.rssMb).toFixed(3)),
      heapUsedGrowth: Number((last.heapUsedMb / first.heapUsedMb).toFixed(3)),
      redisBytesPerIdleEntity: last.redisBytesPerEntity,
      eventsPerSec: Math.round(records / seconds),
    };
  } finally {
    await gatekeeper.close();
    await admin.quit();
    own?.stop();
  }
}

export function printRedisMemoryFigures(figures: RedisMemoryFigures, log: (line: string) => void): void {
  const first = figures.checkpoints[0];
  const last = figures.checkpoints[figures.checkpoints.length - 1];
  log(
    `  rss ${fmt(first?.rssMb ?? 0)} MB at ${fmt(first?.entities ?? 0)} → ${fmt(last?.rssMb ?? 0)} MB at ${fmt(last?.entities ?? 0)} entities: ` +
      `×${figures.rssGrowth.toFixed(2)} (target ≤ 1.20); heap in use ×${figures.heapUsedGrowth.toFixed(2)}`,
  );
  log(
    `  redis memory per idle entity: ${fmt(figures.redisBytesPerIdleEntity)} bytes;  ${fmt(figures.eventsPerSec)} events/s while filling`,
  );
}

/** 100k, then every 100k (or 250k steps above 500k) up to `max`; a smaller max gets thirds. */
function checkpointsUpTo(max: number): number[] {
  if (max < 300_000) return [Math.round(max / 3), Math.round((2 * max) / 3), max];
  const points = [100_000];
  for (let at = 200_000; at < max; at += at < 500_000 ? 100_000 : 250_000) points.push(at);
  points.push(max);
  return points;
}

/** One chunk of the demo stream with keys and ids made unique to the chunk; no garbage. */
function chunkInputs(index: number, entities: number): unknown[] {
  const stream = demoStream({ entities, seed: index + 1, garbageRate: 0 });
  for (const input of stream.inputs as { id: string; key: string }[]) {
    input.key = `${index}-${input.key}`;
    input.id = `${index}-${input.id}`;
  }
  return stream.inputs;
}

async function feedWindow(
  inputs: readonly unknown[],
  concurrency: number,
  handle: (input: unknown) => Promise<unknown>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const input = inputs[next];
      next += 1;
      await handle(input);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function usedMemory(client: Redis): Promise<number> {
  const info = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
}

function startServer(): { url: string; stop: () => void } {
  const out = execFileSync('bash', [`${SCRIPTS}start-redis.sh`], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const value = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(out)?.[1] ?? '';
  const port = value('REDIS_PORT');
  return {
    url: value('REDIS_URL'),
    stop: () => {
      execFileSync('bash', [`${SCRIPTS}stop-redis.sh`, port], { stdio: ['ignore', 'ignore', 'inherit'] });
    },
  };
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
