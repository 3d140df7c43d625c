/**
 * The Redis-store benchmark: the gatekeeper on the demo stream (shuffled, duplicated, with illegal
 * events and garbage) against a real Redis, beside a baseline measured in the same run at the same
 * concurrency — one EVALSHA of a trivial script per event, the floor one round trip per event sets.
 * Reports medians over interleaved rounds: events/s and p50/p99 latency of one decision.
 *
 *   node --import tsx bench/redis-store.ts [--url redis://…] [--entities N] [--rounds N] [--concurrency N] [--json]
 *   node --import tsx bench/redis-store.ts --memory [--max-entities N]    (see bench/redis-memory.ts)
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import machines from '../machines/index.ts';
import { createGatekeeper } from '../src/index.ts';
import { demoStream } from '../src/demo/stream.ts';
import { RECOMMENDED_REDIS_OPTIONS, redisStore } from '../src/store/redis/index.ts';
import { benchRedisMemory, printRedisMemoryFigures } from './redis-memory.ts';
import { fmt, median, rate } from './stats.ts';

export interface RedisBenchOptions {
  /** Default REDIS_URL, else redis://127.0.0.1:6379. */
  url?: string;
  /** Entities in the demo stream (default 10,000: about 40,000 records). */
  entities?: number;
  /** Measured rounds of each side, interleaved (default 5). */
  rounds?: number;
  /** Decisions in flight at once, for both sides (default 256). */
  concurrency?: number;
  /** Keep the outbox, as a deployment with the Kafka relay does (default true). */
  outbox?: boolean;
  /** Receives the report lines (default console.log); pass () => {} for figures only. */
  log?: (line: string) => void;
}

export interface LatencyFigures {
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export interface RedisBenchFigures {
  store: 'redis';
  entities: number;
  inputs: number;
  rounds: number;
  concurrency: number;
  outbox: boolean;
  gatekeeper: LatencyFigures;
  baseline: LatencyFigures;
  /** gatekeeper events/s over baseline events/s (target ≥ 0.5). */
  ratio: number;
  samples: { gatekeeper: LatencyFigures[]; baseline: LatencyFigures[] };
}

const TRIVIAL_SCRIPT = 'return ARGV[1]';

export async function benchRedisStore(options: RedisBenchOptions = {}): Promise<RedisBenchFigures> {
  const url = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const entities = options.entities ?? 10_000;
  const rounds = options.rounds ?? 5;
  const concurrency = options.concurrency ?? 256;
  const outbox = options.outbox ?? true;
  const log = options.log ?? ((line: string) => console.log(line));
  const stream = demoStream({ entities });
  const inputs = stream.inputs;
  const keys = inputs.map((input, index) => {
    const key = (input as { key?: unknown }).key;
    return typeof key === 'string' ? key : `garbage-${index}`;
  });

  const admin = new Redis(url);
  let round = 0;
  const gatekeeperRound = async (): Promise<LatencyFigures> => {
    const prefix = `bench-${process.pid}-${(round += 1)}`;
    const store = redisStore({ url, prefix, outbox });
    await store.ready();
    const gatekeeper = createGatekeeper({ machines, store, sweepIntervalMs: 0 });
    const copy = structuredClone(inputs);
    const figures = await drive(copy.length, concurrency, (i) => gatekeeper.handle(copy[i]));
    await gatekeeper.close();
    await deleteKeys(admin, `{${prefix}`);
    return figures;
  };
  const baseline = new Redis(url, {
    ...RECOMMENDED_REDIS_OPTIONS,
    connectionName: 'gatekeeper-bench-baseline',
  });
  baseline.defineCommand('benchTrivial', { numberOfKeys: 1, lua: TRIVIAL_SCRIPT });
  const trivial = (
    baseline as unknown as { benchTrivial(key: string, arg: string): Promise<unknown> }
  ).benchTrivial.bind(baseline);
  const baselineRound = () =>
    drive(inputs.length, concurrency, (i) => trivial(`{bench-baseline}:${keys[i]}`, '1'));

  try {
    log(
      `redis store, demo stream: ${fmt(inputs.length)} records for ${fmt(entities)} entities at ${url}, ${concurrency} in flight, outbox ${outbox ? 'on' : 'off'}`,
    );
    await gatekeeperRound(); // warm-up: JIT, script cache, connections; not counted
    await baselineRound();
    const samples = { gatekeeper: [] as LatencyFigures[], baseline: [] as LatencyFigures[] };
    for (let i = 0; i < rounds; i += 1) {
      // Interleaved so machine noise hits both sides alike.
      samples.gatekeeper.push(await gatekeeperRound());
      samples.baseline.push(await baselineRound());
    }
    const gatekeeper = medians(samples.gatekeeper);
    const base = medians(samples.baseline);
    const figures: RedisBenchFigures = {
      store: 'redis',
      entities,
      inputs: inputs.length,
      rounds,
      concurrency,
      outbox,
      gatekeeper,
      baseline: base,
      ratio: Number((gatekeeper.eventsPerSec / base.eventsPerSec).toFixed(3)),
      samples,
    };
    printRedisFigures(figures, log);
    return figures;
  } finally {
    await baseline.quit();
    await admin.quit();
  }
}

export function printRedisFigures(figures: RedisBenchFigures, log: (line: string) => void): void {
  const line = (name: string, f: LatencyFigures, note: string) =>
    log(
      `  ${name.padEnd(10)} ${fmt(f.eventsPerSec).padStart(9)} events/s   p50 ${f.p50Ms.toFixed(2)} ms   p99 ${f.p99Ms.toFixed(2)} ms   ${note}`,
    );
  log(`  medians of ${figures.rounds} rounds`);
  line(
    'gatekeeper',
    figures.gatekeeper,
    `(samples ${figures.samples.gatekeeper.map((s) => fmt(s.eventsPerSec)).join(', ')})`,
  );
  line('baseline', figures.baseline, '(one EVALSHA of a trivial script per event)');
  log(`  ratio      ${figures.ratio.toFixed(2)}   (target ≥ 0.50; and ≥ 20,000 events/s)`);
}

/** Runs `count` tasks with `concurrency` in flight (a sliding window), timing each. */
async function drive(
  count: number,
  concurrency: number,
  task: (index: number) => Promise<unknown>,
): Promise<LatencyFigures> {
  const latencies = new Float64Array(count);
  let next = 0;
  const started = performance.now();
  const worker = async () => {
    while (next < count) {
      const index = next;
      next += 1;
      const t0 = performance.now();
      await task(index);
      latencies[index] = performance.now() - t0;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = performance.now() - started;
  latencies.sort();
  return {
    eventsPerSec: rate(count, elapsed),
    p50Ms: round2(latencies[Math.floor(count * 0.5)] ?? 0),
    p99Ms: round2(latencies[Math.floor(count * 0.99)] ?? 0),
  };
}

function medians(samples: readonly LatencyFigures[]): LatencyFigures {
  return {
    eventsPerSec: median(samples.map((s) => s.eventsPerSec)),
    p50Ms: round2(median(samples.map((s) => s.p50Ms))),
    p99Ms: round2(median(samples.map((s) => s.p99Ms))),
  };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Deletes every key starting with `start` (SCAN + UNLINK), outside the measured time. */
export async function deleteKeys(client: Redis, start: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', `${start}*`, 'COUNT', 10_000);
    if (keys.length > 0) await client.unlink(...keys);
    cursor = next;
  } while (cursor !== '0');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      url: { type: 'string' },
      entities: { type: 'string' },
      rounds: { type: 'string' },
      concurrency: { type: 'string' },
      'no-outbox': { type: 'boolean' },
      memory: { type: 'boolean' },
      'max-entities': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const number = (value: string | undefined) => (value === undefined ? undefined : Number(value));
  if (values.memory) {
    const figures = await benchRedisMemory({
      ...(values['max-entities'] ? { maxEntities: Number(values['max-entities']) } : {}),
    });
    printRedisMemoryFigures(figures, (l) => console.log(l));
    if (values.json) console.log(JSON.stringify(figures));
  } else {
    const figures = await benchRedisStore({
      ...(values.url ? { url: values.url } : {}),
      ...(number(values.entities) ? { entities: number(values.entities) as number } : {}),
      ...(number(values.rounds) ? { rounds: number(values.rounds) as number } : {}),
      ...(number(values.concurrency) ? { concurrency: number(values.concurrency) as number } : {}),
      outbox: !values['no-outbox'],
    });
    if (values.json) console.log(JSON.stringify(figures));
  }
}
