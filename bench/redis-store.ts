/**
 * The Redis-store benchmark: the gatekeeper on the demo stream (shuffled, duplicated, with illegal
 * events and garbage) against a real Redis, beside two sides measured in the same run with the same
 * harness, stream and concurrency:
 *   - the peer: a hand-written minimal resequencer (bench/peer/), what a user would write instead
 *     (highest seq per key, hold later ones until the gap fills, an outbox; no machine, no legality
 *     check, no history, no schema), one EVALSHA per event;
 *   - the floor: one EVALSHA of a trivial script per event, what a round trip alone costs.
 * and, to show where the gap to the peer goes, the gatekeeper again with parts of what it keeps
 * taken away, in the same run:
 *   - no history: `historyLimit: 0`;
 *   - state only: no outbox and no history: the entity, its buffer and its machine snapshot, fenced;
 *   - embedded: the in-memory store, no I/O at all: the decision work alone.
 * Reports medians over interleaved rounds: events/s, p50/p99 latency, and per event the Node CPU,
 * Redis CPU, bytes each way and the garbage collection share (bench/redis-resources.ts). With
 * `--profile`, one more round of each side runs under the CPU profiler, and the Node CPU per event
 * is split by what it buys (bench/cpu-profile.ts).
 *
 *   node --import tsx bench/redis-store.ts [--url redis://…] [--entities N] [--rounds N] [--concurrency N] [--profile] [--json]
 *   node --import tsx bench/redis-store.ts --memory [--max-entities N]    (see bench/redis-memory.ts)
 */
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import machines from '../machines/index.ts';
import { createGatekeeper, type EntityStore } from '../src/index.ts';
import { demoStream } from '../src/demo/stream.ts';
import { RECOMMENDED_REDIS_OPTIONS, redisStore } from '../src/store/redis/index.ts';
import { resequencer } from './peer/resequencer.ts';
import { CPU_KINDS, profiled, type CpuBreakdown } from './cpu-profile.ts';
import { benchRedisMemory, printRedisMemoryFigures } from './redis-memory.ts';
import { measured, type ResourceFigures } from './redis-resources.ts';
import { fmt, median, rate } from './stats.ts';

export interface RedisBenchOptions {
  /** Default REDIS_URL, else redis://127.0.0.1:6379. */
  url?: string;
  /** Entities in the demo stream (default 10,000: about 40,000 records). */
  entities?: number;
  /** Measured rounds of each side, interleaved (default 5). */
  rounds?: number;
  /** Decisions in flight at once, for every side (default 256). */
  concurrency?: number;
  /** Keep the outbox, as a deployment with the Kafka relay does (default true). */
  outbox?: boolean;
  /** One more round of each side under the CPU profiler, its Node CPU split by kind (default false). */
  profile?: boolean;
  /** Receives the report lines (default console.log); pass () => {} for figures only. */
  log?: (line: string) => void;
}

export interface LatencyFigures {
  eventsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

export type SideFigures = LatencyFigures & ResourceFigures;

const SIDES = ['gatekeeper', 'peer', 'floor', 'noHistory', 'stateOnly', 'embedded'] as const;
type Side = (typeof SIDES)[number];

const LABELS: Record<Side, string> = {
  gatekeeper: 'gatekeeper',
  peer: 'peer',
  floor: 'floor',
  noHistory: 'no history',
  stateOnly: 'state only',
  embedded: 'embedded',
};

export interface RedisBenchFigures {
  store: 'redis';
  entities: number;
  inputs: number;
  rounds: number;
  concurrency: number;
  outbox: boolean;
  gatekeeper: SideFigures;
  peer: SideFigures;
  floor: SideFigures;
  /** The gatekeeper on Redis without history (`historyLimit: 0`). */
  noHistory: SideFigures;
  /** The gatekeeper on Redis without outbox and history: entity, buffer and snapshot only. */
  stateOnly: SideFigures;
  /** The gatekeeper on the in-memory store: its decision work with no I/O (Redis figures are 0). */
  embedded: SideFigures;
  /** With `profile`: each side's Node CPU per event split by kind (µs). */
  profiles?: Record<Side, CpuBreakdown>;
  eventsPerSec: number;
  peerEventsPerSec: number;
  floorEventsPerSec: number;
  /** gatekeeper events/s over the peer's (target ≥ 0.8). */
  ratio: number;
  /** gatekeeper events/s over the floor's. */
  floorRatio: number;
  samples: Record<Side, SideFigures[]>;
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
  const client = () => new Redis(url, { ...RECOMMENDED_REDIS_OPTIONS, connectionName: 'gatekeeper-bench' });
  let round = 0;
  /** A round's measurement: plain, or under the CPU profiler (kept aside, not among the samples). */
  type Measure = (events: number, work: () => Promise<LatencyFigures>) => Promise<SideFigures>;
  const plain: Measure = async (events, work) => {
    const { result, resources } = await measured(admin, events, work);
    return { ...result, ...resources };
  };
  const gatekeeperSide =
    (storeFor: (prefix: string) => EntityStore | undefined) =>
    async (measure: Measure): Promise<SideFigures> => {
      const prefix = `bench-${process.pid}-${(round += 1)}`;
      const store = storeFor(prefix);
      await (store as { ready?: () => Promise<void> } | undefined)?.ready?.();
      const gatekeeper = createGatekeeper({ machines, ...(store ? { store } : {}), sweepIntervalMs: 0 });
      const copy = structuredClone(inputs);
      const figures = await measure(copy.length, () =>
        drive(copy.length, concurrency, (i) => gatekeeper.handle(copy[i])),
      );
      await gatekeeper.close();
      if (store) await deleteKeys(admin, `{${prefix}`);
      return figures;
    };
  const sides: Record<Side, (measure: Measure) => Promise<SideFigures>> = {
    gatekeeper: gatekeeperSide((prefix) => redisStore({ url, prefix, outbox })),
    async peer(measure) {
      const prefix = `bench-peer-${process.pid}-${(round += 1)}`;
      const redis = client();
      const resequence = resequencer(redis, prefix);
      await redis.ping();
      const figures = await measure(inputs.length, () =>
        drive(inputs.length, concurrency, (i) => resequence(inputs[i])),
      );
      await redis.quit();
      await deleteKeys(admin, `{${prefix}`);
      return figures;
    },
    async floor(measure) {
      const redis = client();
      redis.defineCommand('benchTrivial', { numberOfKeys: 1, lua: TRIVIAL_SCRIPT });
      const trivial = (
        redis as unknown as { benchTrivial(key: string, arg: string): Promise<unknown> }
      ).benchTrivial.bind(redis);
      await redis.ping();
      const figures = await measure(inputs.length, () =>
        drive(inputs.length, concurrency, (i) => trivial(`{bench-floor}:${keys[i]}`, '1')),
      );
      await redis.quit();
      return figures;
    },
    noHistory: gatekeeperSide((prefix) => redisStore({ url, prefix, outbox, historyLimit: 0 })),
    stateOnly: gatekeeperSide((prefix) => redisStore({ url, prefix, outbox: false, historyLimit: 0 })),
    embedded: gatekeeperSide(() => undefined),
  };

  try {
    log(
      `redis store, demo stream: ${fmt(inputs.length)} records for ${fmt(entities)} entities at ${url}, ${concurrency} in flight, outbox ${outbox ? 'on' : 'off'}`,
    );
    for (const side of SIDES) await sides[side](plain); // warm-up: JIT, script cache, connections; not counted
    const samples = Object.fromEntries(SIDES.map((side) => [side, [] as SideFigures[]])) as Record<
      Side,
      SideFigures[]
    >;
    for (let i = 0; i < rounds; i += 1) {
      // Interleaved so machine noise hits every side alike.
      for (const side of SIDES) samples[side].push(await sides[side](plain));
    }
    const all = Object.fromEntries(SIDES.map((side) => [side, medians(samples[side])])) as Record<
      Side,
      SideFigures
    >;
    const { gatekeeper, peer, floor } = all;
    let profiles: Record<Side, CpuBreakdown> | undefined;
    if (options.profile) {
      profiles = {} as Record<Side, CpuBreakdown>;
      for (const side of SIDES) {
        let breakdown: CpuBreakdown | undefined;
        await sides[side](async (events, work) => {
          const run = await profiled(events, () => plain(events, work));
          breakdown = run.breakdown;
          return run.result;
        });
        profiles[side] = breakdown as CpuBreakdown;
      }
    }
    const figures: RedisBenchFigures = {
      store: 'redis',
      entities,
      inputs: inputs.length,
      rounds,
      concurrency,
      outbox,
      ...all,
      ...(profiles ? { profiles } : {}),
      eventsPerSec: gatekeeper.eventsPerSec,
      peerEventsPerSec: peer.eventsPerSec,
      floorEventsPerSec: floor.eventsPerSec,
      ratio: Number((gatekeeper.eventsPerSec / peer.eventsPerSec).toFixed(3)),
      floorRatio: Number((gatekeeper.eventsPerSec / floor.eventsPerSec).toFixed(3)),
      samples,
    };
    printRedisFigures(figures, log);
    return figures;
  } finally {
    await admin.quit();
  }
}

export function printRedisFigures(figures: RedisBenchFigures, log: (line: string) => void): void {
  log(`  medians of ${figures.rounds} interleaved rounds`);
  log(
    '  side         events/s   p50 ms   p99 ms   Node CPU µs/ev   Redis CPU µs/ev   bytes to/from Redis per ev   GC share',
  );
  for (const side of SIDES) {
    const f = figures[side];
    log(
      `  ${LABELS[side].padEnd(10)} ${fmt(f.eventsPerSec).padStart(10)} ${f.p50Ms.toFixed(2).padStart(8)} ${f.p99Ms.toFixed(2).padStart(8)} ${f.nodeCpuUsPerEvent.toFixed(1).padStart(16)} ${f.redisCpuUsPerEvent.toFixed(1).padStart(17)} ${`${fmt(f.bytesToRedisPerEvent)} / ${fmt(f.bytesFromRedisPerEvent)}`.padStart(28)} ${f.gcShare.toFixed(3).padStart(10)}`,
    );
  }
  log(`  ratio      ${figures.ratio.toFixed(2)}   gatekeeper / peer (target ≥ 0.80)`);
  log(`  floor ratio ${figures.floorRatio.toFixed(2)}  gatekeeper / one trivial EVALSHA per event`);
  printGap(figures, log);
  if (figures.profiles) printProfiles(figures.profiles, log);
}

/**
 * The gatekeeper's cost per event built up from the embedded decision work by what the Redis
 * store keeps, each line the difference to the one before (wall µs per event = 10⁶ / events/s).
 */
function printGap(figures: RedisBenchFigures, log: (line: string) => void): void {
  const wall = (f: SideFigures) => 1e6 / f.eventsPerSec;
  const steps: [string, SideFigures, SideFigures | undefined][] = [
    ['decision work, no I/O (embedded)', figures.embedded, undefined],
    ['+ entity, buffer, snapshot in Redis, fenced', figures.stateOnly, figures.embedded],
    ['+ outbox', figures.noHistory, figures.stateOnly],
    ['+ history', figures.gatekeeper, figures.noHistory],
  ];
  log('  per event, built up (each line: the difference to the line before)   wall µs   Node CPU µs');
  for (const [label, side, before] of steps) {
    const w = before ? wall(side) - wall(before) : wall(side);
    const c = before ? side.nodeCpuUsPerEvent - before.nodeCpuUsPerEvent : side.nodeCpuUsPerEvent;
    log(`  ${label.padEnd(66)} ${signed(w, !!before).padStart(9)} ${signed(c, !!before).padStart(13)}`);
  }
  log(
    `  ${'= gatekeeper'.padEnd(66)} ${wall(figures.gatekeeper).toFixed(1).padStart(9)} ${figures.gatekeeper.nodeCpuUsPerEvent.toFixed(1).padStart(13)}`,
  );
  log(
    `  ${'peer'.padEnd(66)} ${wall(figures.peer).toFixed(1).padStart(9)} ${figures.peer.nodeCpuUsPerEvent.toFixed(1).padStart(13)}`,
  );
}

function signed(value: number, delta: boolean): string {
  return `${delta && value >= 0 ? '+' : ''}${value.toFixed(1)}`;
}

/** The profiled round of each side: Node CPU µs per event by kind (bench/cpu-profile.ts). */
function printProfiles(profiles: Record<Side, CpuBreakdown>, log: (line: string) => void): void {
  log('  Node CPU µs per event by kind, one profiled round of each side');
  log(`  ${'kind'.padEnd(12)}${SIDES.map((side) => LABELS[side].padStart(12)).join('')}`);
  for (const kind of [...CPU_KINDS, 'busy'] as const)
    log(`  ${kind.padEnd(12)}${SIDES.map((side) => profiles[side][kind].toFixed(1).padStart(12)).join('')}`);
}

/** Runs `count` tasks with `concurrency` in flight (a sliding window), timing each. */
export async function drive(
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

function medians(samples: readonly SideFigures[]): SideFigures {
  const of = (field: keyof SideFigures) => median(samples.map((s) => s[field]));
  return {
    eventsPerSec: of('eventsPerSec'),
    p50Ms: round2(of('p50Ms')),
    p99Ms: round2(of('p99Ms')),
    nodeCpuUsPerEvent: of('nodeCpuUsPerEvent'),
    redisCpuUsPerEvent: of('redisCpuUsPerEvent'),
    bytesToRedisPerEvent: of('bytesToRedisPerEvent'),
    bytesFromRedisPerEvent: of('bytesFromRedisPerEvent'),
    gcShare: of('gcShare'),
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
      profile: { type: 'boolean' },
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
      profile: values.profile ?? false,
    });
    if (values.json) console.log(JSON.stringify(figures));
  }
}
