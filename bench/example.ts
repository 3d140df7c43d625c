/**
 * The example service's benchmark (examples/postgres-read-model): end-to-end events/s from a full
 * input topic through the gatekeeper (Redis store) and the example's handler, which writes every
 * transition into PostgreSQL once per idempotency key, beside the same pipeline without a handler
 * (its only effect the output topic), measured in the same run on the same input, rounds
 * interleaved. The clock runs from the group join until every input offset is committed and every
 * effect has run (PostgreSQL rows committed, or outbox published).
 *
 * `npm run bench -- --example [--entities N] [--rounds N] [--json]` (entities = shipments).
 * Uses KAFKA_BROKERS (else starts a broker), REDIS_URL and PG_URL (else starts a throw-away cluster).
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { machines } from '../examples/postgres-read-model/machines.ts';
import { applyTransition, createSchema } from '../examples/postgres-read-model/read-model.ts';
import { shipmentStream } from '../examples/postgres-read-model/stream.ts';
import { runGatekeeper, type RunConfigInput, type RunOptions } from '../src/kafka/index.ts';
import { createDatabase, postgresServer } from '../test/support/postgres.ts';
import { deleteKeys, ensureBroker, produceAll, until } from './kafka.ts';
import { fmt, median } from './stats.ts';

export interface ExampleBenchOptions {
  /** Shipments in the stream (default 5,000: about 25,000 input records). */
  entities?: number;
  rounds?: number;
  partitions?: number;
  /** Handlers running at once = PostgreSQL connections (the example's default, 16). */
  concurrency?: number;
  log?: (line: string) => void;
}

export interface ExampleSideFigures {
  eventsPerSec: number;
  seconds: number;
  /** Transitions the side's effect applied (rows in applied_effects, or output records). */
  transitions: number;
}

export interface ExampleBenchFigures {
  inputs: number;
  entities: number;
  rounds: number;
  concurrency: number;
  /** The example's handler writing into PostgreSQL, no output topic (the example's configuration). */
  example: ExampleSideFigures;
  /** The same pipeline without a handler: the output topic is the only effect. */
  baseline: ExampleSideFigures;
  /** The example's configuration with a handler that does nothing: what the effects engine costs. */
  noop: ExampleSideFigures;
  ratio: number;
  noopRatio: number;
  samples: { example: number[]; baseline: number[]; noop: number[] };
}

export async function benchExample(options: ExampleBenchOptions = {}): Promise<ExampleBenchFigures> {
  const log = options.log ?? ((line: string) => console.log(line));
  const entities = options.entities ?? 5_000;
  const rounds = options.rounds ?? 3;
  const partitions = options.partitions ?? 6;
  const concurrency = options.concurrency ?? 16;
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const [broker, server] = await Promise.all([ensureBroker(process.env.KAFKA_BROKERS), postgresServer()]);
  const kafka = new Kafka({
    clientId: 'gatekeeper-bench',
    brokers: broker.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const tag = `bench-example-${process.pid}-${randomBytes(3).toString('hex')}`;
  const input = `${tag}-in`;
  const topics = [input];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const stream = shipmentStream({ shipments: entities, seed: 7 });
    const messages = stream.events.map((event) => ({ key: event.key, value: JSON.stringify(event) }));
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: input, numPartitions: partitions, replicationFactor: 1 }],
    });
    await produceAll(kafka, input, messages);
    log(
      `example service (PostgreSQL read model) end to end: ${fmt(messages.length)} records for ${fmt(entities)} shipments, ${partitions} partitions, handler concurrency ${concurrency}`,
    );
    const samples = {
      example: [] as ExampleSideFigures[],
      baseline: [] as ExampleSideFigures[],
      noop: [] as ExampleSideFigures[],
    };
    for (let round = 1; round <= rounds; round += 1) {
      const name = `${tag}-r${round}`;
      const side = { brokers: broker.brokers, redisUrl, input, total: messages.length };
      await admin.createTopics({
        waitForLeaders: true,
        topics: [`${name}-out`, `${name}-dead`, `${name}-pg-dead`, `${name}-noop-dead`].map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
        })),
      });
      topics.push(`${name}-out`, `${name}-dead`, `${name}-pg-dead`, `${name}-noop-dead`);
      samples.baseline.push(await pipeline({ ...side, name, output: `${name}-out`, dead: `${name}-dead` }));
      let handled = 0;
      const noop = await pipeline(
        { ...side, name: `${name}-noop`, output: false, dead: `${name}-noop-dead` },
        { onTransition: () => void (handled += 1), effects: { concurrency } },
      );
      samples.noop.push({ ...noop, transitions: handled });
      const database = await createDatabase(server, `bench_${round}`);
      const pool = new pg.Pool({ connectionString: database.url, max: concurrency });
      // An idle client ended by the database's drop after the round is the pool's 'error' (uncaught without a listener).
      pool.on('error', () => undefined);
      try {
        await createSchema(pool);
        const figures = await pipeline(
          { ...side, name: `${name}-pg`, output: false, dead: `${name}-pg-dead` },
          {
            onTransition: async (transition, { idempotencyKey }) => {
              await applyTransition(pool, transition, idempotencyKey);
            },
            effects: { concurrency },
          },
        );
        const applied = await pool.query<{ n: string }>('SELECT count(*) AS n FROM applied_effects');
        samples.example.push({ ...figures, transitions: Number(applied.rows[0]?.n ?? 0) });
      } finally {
        await pool.end();
        await database.drop();
      }
      log(
        `  round ${round}: example ${fmt(samples.example.at(-1)!.eventsPerSec)} events/s, baseline ${fmt(samples.baseline.at(-1)!.eventsPerSec)} events/s, no-op handler ${fmt(samples.noop.at(-1)!.eventsPerSec)} events/s`,
      );
    }
    const pick = (list: ExampleSideFigures[]): ExampleSideFigures => {
      const middle = median(list.map((figures) => figures.eventsPerSec));
      return list.reduce((best, figures) =>
        Math.abs(figures.eventsPerSec - middle) < Math.abs(best.eventsPerSec - middle) ? figures : best,
      );
    };
    const example = pick(samples.example);
    const baseline = pick(samples.baseline);
    const noop = pick(samples.noop);
    const rate = (list: ExampleSideFigures[]) => median(list.map((figures) => figures.eventsPerSec));
    return {
      inputs: messages.length,
      entities,
      rounds,
      concurrency,
      example,
      baseline,
      noop,
      noopRatio: Number((rate(samples.noop) / rate(samples.baseline)).toFixed(3)),
      ratio: Number((rate(samples.example) / rate(samples.baseline)).toFixed(3)),
      samples: {
        example: samples.example.map((s) => s.eventsPerSec),
        baseline: samples.baseline.map((s) => s.eventsPerSec),
        noop: samples.noop.map((s) => s.eventsPerSec),
      },
    };
  } finally {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await Promise.all([broker.stop(), server.stop()]);
  }
}

/**
 * One side: a new consumer group reads the whole input topic; done when every record went through
 * a batch and every effect committed so far has run.
 */
async function pipeline(
  side: {
    brokers: string;
    redisUrl: string;
    input: string;
    total: number;
    name: string;
    output: string | false;
    dead: string;
  },
  options: RunOptions = {},
): Promise<ExampleSideFigures> {
  let committedRecords = 0;
  const config: RunConfigInput = {
    machines,
    brokers: side.brokers,
    groupId: side.name,
    clientId: 'gatekeeper-bench',
    topics: { input: [side.input], output: side.output, deadLetter: side.dead },
    redis: { url: side.redisUrl, prefix: side.name },
    limits: { partitionsConsumedConcurrently: 6, maxInFlight: 500 },
  };
  const running = await runGatekeeper(config, {
    ...options,
    metrics: {
      batch: (_topic, _partition, records) => {
        committedRecords += records;
      },
    },
  });
  const started = performance.now();
  try {
    await until(async () => {
      if (committedRecords < side.total) return false;
      await running.gatekeeper.idle();
      await running.gatekeeper.effects?.idle();
      const outbox = await running.gatekeeper.store.readOutbox(1);
      return outbox.length === 0;
    });
    const seconds = (performance.now() - started) / 1000;
    return {
      eventsPerSec: Math.round(side.total / seconds),
      seconds,
      transitions: running.published().output,
    };
  } finally {
    await running.stop();
    const redis = new Redis(side.redisUrl);
    await deleteKeys(redis, `{${side.name}`);
    await redis.quit();
  }
}

export function printExampleFigures(figures: ExampleBenchFigures, log: (line: string) => void): void {
  const line = (name: string, side: ExampleSideFigures, note: string) =>
    log(
      `  ${name.padEnd(10)} ${fmt(side.eventsPerSec).padStart(9)} events/s   ${side.seconds.toFixed(2)} s   ${note}`,
    );
  log(
    `  median of ${figures.rounds} rounds (samples example ${figures.samples.example.map(fmt).join(', ')}; baseline ${figures.samples.baseline.map(fmt).join(', ')}; no-op ${figures.samples.noop.map(fmt).join(', ')})`,
  );
  line(
    'example',
    figures.example,
    `(input → gatekeeper (Redis) → handler → ${fmt(figures.example.transitions)} PostgreSQL transactions)`,
  );
  line(
    'baseline',
    figures.baseline,
    `(same pipeline, no handler: ${fmt(figures.baseline.transitions)} output records)`,
  );
  line(
    'no-op',
    figures.noop,
    `(the example's configuration, a handler that does nothing: ${fmt(figures.noop.transitions)} calls)`,
  );
  log(`  ratio      ${figures.ratio.toFixed(2)}   (example / baseline, same run)`);
  log(
    `  no-op      ${figures.noopRatio.toFixed(2)}   (no-op handler / baseline: the effects engine without PostgreSQL)`,
  );
}
