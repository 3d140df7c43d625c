/**
 * The effects benchmark: the same pipeline — the demo stream decided and committed — with a no-op
 * durable transition handler (every applied transition queued by its commit, read back, run and
 * acknowledged) and without a handler, measured in the same run on the memory store and on Redis
 * (outbox on, as with the Kafka relay). A round with the handler ends when its effects are idle,
 * so its time includes running every effect. Target: with / without ≥ 0.8.
 *
 *   npm run bench -- --effects [--entities N] [--rounds N] [--json]     (Redis at REDIS_URL)
 */
import { Redis } from 'ioredis';
import machines from '../machines/index.ts';
import { createGatekeeper, memoryStore, type EffectsOptions, type Gatekeeper } from '../src/index.ts';
import { demoStream } from '../src/demo/stream.ts';
import { redisStore } from '../src/store/redis/index.ts';
import { deleteKeys, drive } from './redis-store.ts';
import { fmt, median, rate } from './stats.ts';

export interface EffectsBenchOptions {
  url?: string;
  /** Entities of the demo stream (default 10,000 on memory; half of it on Redis). */
  entities?: number;
  rounds?: number;
  log?: (line: string) => void;
}

interface StoreFigures {
  withHandler: number;
  withoutHandler: number;
  ratio: number;
  effects: number;
  samples: { withHandler: number[]; withoutHandler: number[] };
}

export interface EffectsBenchFigures {
  benchmark: 'effects';
  entities: number;
  rounds: number;
  memory: StoreFigures & { inputs: number };
  redis: StoreFigures & { inputs: number };
  /** The lower of the two ratios (target ≥ 0.8). */
  ratio: number;
}

export async function benchEffects(options: EffectsBenchOptions = {}): Promise<EffectsBenchFigures> {
  const url = options.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const entities = options.entities ?? 10_000;
  const rounds = options.rounds ?? 5;
  const log = options.log ?? ((line: string) => console.log(line));
  const memoryInputs = demoStream({ entities }).inputs;
  const redisInputs = demoStream({ entities: Math.max(1, Math.round(entities / 2)) }).inputs;
  let effects = 0;
  const noop: EffectsOptions = { onTransition: () => void (effects += 1) };

  /** One round: decide every input, then (with a handler) wait until every effect ran. */
  const round = async (gatekeeper: Gatekeeper, inputs: readonly unknown[], feed: 'batch' | 'drive') => {
    const copy = structuredClone(inputs) as unknown[];
    const started = performance.now();
    if (feed === 'batch') await gatekeeper.handleBatch(copy);
    else await drive(copy.length, 256, (i) => gatekeeper.handle(copy[i]));
    await gatekeeper.idle();
    await gatekeeper.effects?.idle();
    const elapsed = performance.now() - started;
    await gatekeeper.close();
    return rate(copy.length, elapsed);
  };
  const admin = new Redis(url);
  let prefixes = 0;
  const sides = {
    memory: (handler: boolean) =>
      round(
        createGatekeeper({
          machines,
          store: memoryStore({ outbox: true, effects: handler }),
          sweepIntervalMs: 0,
          ...(handler ? { effects: noop } : {}),
        }),
        memoryInputs,
        'batch',
      ),
    redis: async (handler: boolean) => {
      const prefix = `bench-effects-${process.pid}-${(prefixes += 1)}`;
      const store = redisStore({ url, prefix, outbox: true, effects: handler });
      await store.ready();
      try {
        return await round(
          createGatekeeper({ machines, store, sweepIntervalMs: 0, ...(handler ? { effects: noop } : {}) }),
          redisInputs,
          'drive',
        );
      } finally {
        await deleteKeys(admin, `{${prefix}`);
      }
    },
  };
  try {
    const measure = async (name: 'memory' | 'redis', inputs: number) => {
      await sides[name](true); // warm-up
      await sides[name](false);
      effects = 0;
      const samples = { withHandler: [] as number[], withoutHandler: [] as number[] };
      for (let i = 0; i < rounds; i += 1) {
        // Interleaved, and the order alternates, so machine noise hits both sides alike.
        for (const handler of i % 2 === 0 ? [true, false] : [false, true])
          (handler ? samples.withHandler : samples.withoutHandler).push(await sides[name](handler));
      }
      const withHandler = median(samples.withHandler);
      const withoutHandler = median(samples.withoutHandler);
      return {
        inputs,
        withHandler,
        withoutHandler,
        ratio: Number((withHandler / withoutHandler).toFixed(3)),
        effects: Math.round(effects / rounds),
        samples,
      };
    };
    const memory = await measure('memory', memoryInputs.length);
    const redis = await measure('redis', redisInputs.length);
    const figures: EffectsBenchFigures = {
      benchmark: 'effects',
      entities,
      rounds,
      memory,
      redis,
      ratio: Math.min(memory.ratio, redis.ratio),
    };
    printEffectsFigures(figures, log);
    return figures;
  } finally {
    await admin.quit();
  }
}

export function printEffectsFigures(figures: EffectsBenchFigures, log: (line: string) => void): void {
  log(
    `effects: the same pipeline with a no-op transition handler vs without, medians of ${figures.rounds} interleaved rounds`,
  );
  for (const name of ['memory', 'redis'] as const) {
    const side = figures[name];
    log(`  ${name} store (${fmt(side.inputs)} records, ${fmt(side.effects)} effects run per round)`);
    log(
      `    with handler     ${fmt(side.withHandler).padStart(9)} events/s   (samples ${side.samples.withHandler.map(fmt).join(', ')})`,
    );
    log(
      `    without handler  ${fmt(side.withoutHandler).padStart(9)} events/s   (samples ${side.samples.withoutHandler.map(fmt).join(', ')})`,
    );
    log(`    ratio            ${side.ratio.toFixed(2)}   (target ≥ 0.80)`);
  }
}
