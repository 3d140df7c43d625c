/**
 * The Kafka benchmark: end-to-end events/s from an input topic through the gatekeeper (Redis store,
 * outbox relay) to the output topic, beside a baseline measured in the same run on the same input:
 * a plain kafkajs consumer that forwards each record to an output topic, with no gatekeeping.
 *
 * Both sides start from a full input topic (the demo stream: shuffled, duplicated, with illegal
 * events and garbage) in a new consumer group, and the clock runs from the group join until every
 * input offset is committed and everything the side produces is acknowledged by the broker. Lag is
 * the consumer lag the runtime reports after each batch (sampled every 250 ms).
 *
 * `benchKafka()` logs what it measures and returns the figures; `printKafkaFigures` prints them.
 * Run alone: `node --import tsx bench/kafka.ts [--entities N] [--partitions N] [--rounds N] [--json]`,
 * or `npm run bench -- --kafka`.
 * Uses KAFKA_BROKERS (else starts a broker with scripts/kafka/start-kafka.sh) and REDIS_URL.
 */
import { execFile, fork } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Message } from 'kafkajs';
import machines from '../machines/index.ts';
import { demoStream } from '../src/demo/stream.ts';
import { runGatekeeper, type RunningGatekeeper } from '../src/kafka/index.ts';
import { fmt } from './stats.ts';
import { parseScriptOutput } from '../scripts/script-output.ts';
import type { MemberReport, MemberRequest } from './kafka-member.ts';
import { within } from '../src/kafka/within.ts';

export interface KafkaBenchOptions {
  /** host:port list; default KAFKA_BROKERS, else a broker started (and stopped) for the run. */
  brokers?: string;
  redisUrl?: string;
  /** Demo-stream entities (default 20,000: about 100,000 input records). */
  entities?: number;
  partitions?: number;
  rounds?: number;
  /** The gatekeeper's limits.relayBatchSize (default: the runtime's default). */
  relayBatchSize?: number;
  log?: (line: string) => void;
}

export interface KafkaSideFigures {
  eventsPerSec: number;
  seconds: number;
  /** Records the side produced (output plus dead letters for the gatekeeper). */
  produced: number;
  /** Largest total consumer lag reported, and the lag sampled every 250 ms. */
  maxLag: number;
  lagSamples: number[];
  /** Relay rounds that published rows (with exactly-once, one transaction each), and rows per round. */
  publishRounds: number;
  rowsPerRound: number;
  /** Seconds from the last input record decided (lag 0) until the outbox was empty: publishing's tail. */
  publishTailSeconds: number;
}

export interface KafkaBenchFigures {
  brokers: string;
  inputs: number;
  entities: number;
  partitions: number;
  rounds: number;
  gatekeeper: KafkaSideFigures;
  /** The same runtime on the in-memory store: what Kafka and the runtime cost without Redis. */
  memory: KafkaSideFigures;
  baseline: KafkaSideFigures;
  /** Redis, delivery "exactly-once" (one transaction per owned partition's relay round), one member. */
  exactlyOnce: KafkaSideFigures;
  /** Redis, exactly-once, two members in one consumer group (in this process: they share one core). */
  twoMembers: KafkaSideFigures;
  /** The same two members, each in a process of its own (bench/kafka-member.ts), as on two machines. */
  twoProcesses: KafkaSideFigures;
  ratio: number;
  memoryRatio: number;
  exactlyOnceRatio: number;
  twoMembersRatio: number;
  twoProcessesRatio: number;
  samples: {
    gatekeeper: number[];
    baseline: number[];
    memory: number[];
    exactlyOnce: number[];
    twoMembers: number[];
    twoProcesses: number[];
  };
}

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../scripts/kafka/', import.meta.url));

export async function benchKafka(options: KafkaBenchOptions = {}): Promise<KafkaBenchFigures> {
  const log = options.log ?? ((line: string) => console.log(line));
  const entities = options.entities ?? 20_000;
  const partitions = options.partitions ?? 6;
  const rounds = options.rounds ?? 1;
  const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const broker = await ensureBroker(options.brokers ?? process.env.KAFKA_BROKERS);
  const kafka = new Kafka({
    clientId: 'gatekeeper-bench',
    brokers: broker.brokers.split(','),
    logLevel: logLevel.NOTHING,
  });
  const tag = `bench-${process.pid}-${randomBytes(3).toString('hex')}`;
  const input = `${tag}-in`;
  const topics = [input];
  const admin = kafka.admin();
  await admin.connect();
  try {
    const stream = demoStream({ entities });
    const messages: Message[] = stream.inputs.map((item) => ({
      key: keyOf(item),
      value: JSON.stringify(item),
    }));
    await admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: input, numPartitions: partitions, replicationFactor: 1 }],
    });
    await produceAll(kafka, input, messages);
    log(
      `kafka end to end, demo stream: ${fmt(messages.length)} records for ${fmt(entities)} entities, ${partitions} partitions, broker ${broker.brokers}, Redis ${redisUrl}`,
    );

    const samples = {
      gatekeeper: [] as KafkaSideFigures[],
      baseline: [] as KafkaSideFigures[],
      memory: [] as KafkaSideFigures[],
      exactlyOnce: [] as KafkaSideFigures[],
      twoMembers: [] as KafkaSideFigures[],
      twoProcesses: [] as KafkaSideFigures[],
    };
    const run: RoundRun = {
      brokers: broker.brokers,
      input,
      total: messages.length,
      relayBatchSize: options.relayBatchSize,
    };
    for (let round = 1; round <= rounds; round += 1) {
      // Interleaved so machine noise hits both sides alike; each round is a new group and output.
      const named = (side: string): SideNames => ({
        out: `${tag}-r${round}-${side}-gated`,
        dead: `${tag}-r${round}-${side}-dead`,
        group: `${tag}-r${round}-${side}`,
      });
      const sides = {
        gatekeeper: named('gatekeeper'),
        memory: named('memory'),
        eos: named('eos'),
        two: named('two'),
        proc: named('proc'),
      };
      const forwarded = `${tag}-r${round}-forwarded`;
      const roundTopics = [forwarded, ...Object.values(sides).flatMap((side) => [side.out, side.dead])];
      topics.push(...roundTopics);
      await admin.createTopics({
        waitForLeaders: true,
        topics: roundTopics.map((topic) => ({
          topic,
          numPartitions: partitions,
          replicationFactor: 1,
        })),
      });
      samples.baseline.push(
        await baselineSide(kafka, input, forwarded, `${tag}-r${round}-baseline`, messages.length),
      );
      samples.gatekeeper.push(await gatekeeperSide(run, sides.gatekeeper, redisUrl));
      samples.memory.push(await gatekeeperSide(run, sides.memory, undefined));
      samples.exactlyOnce.push(
        await gatekeeperSide(run, sides.eos, redisUrl, { delivery: 'exactly-once', members: 1 }),
      );
      samples.twoMembers.push(
        await gatekeeperSide(run, sides.two, redisUrl, { delivery: 'exactly-once', members: 2 }),
      );
      samples.twoProcesses.push(await processesSide(run, sides.proc, redisUrl, 2));
    }
    /** The round with the median rate (the upper one of two middles). */
    const pick = (list: KafkaSideFigures[]): KafkaSideFigures => {
      const sorted = [...list].sort((a, b) => a.eventsPerSec - b.eventsPerSec);
      const middle = sorted[Math.floor(sorted.length / 2)];
      if (!middle) throw new Error('kafka bench: no rounds');
      return middle;
    };
    const gatekeeper = pick(samples.gatekeeper);
    const baseline = pick(samples.baseline);
    const memory = pick(samples.memory);
    const exactlyOnce = pick(samples.exactlyOnce);
    const twoMembers = pick(samples.twoMembers);
    const twoProcesses = pick(samples.twoProcesses);
    const figures: KafkaBenchFigures = {
      brokers: broker.brokers,
      inputs: messages.length,
      entities,
      partitions,
      rounds,
      gatekeeper,
      baseline,
      memory,
      exactlyOnce,
      twoMembers,
      twoProcesses,
      ratio: Number((gatekeeper.eventsPerSec / baseline.eventsPerSec).toFixed(3)),
      memoryRatio: Number((memory.eventsPerSec / baseline.eventsPerSec).toFixed(3)),
      exactlyOnceRatio: Number((exactlyOnce.eventsPerSec / baseline.eventsPerSec).toFixed(3)),
      twoMembersRatio: Number((twoMembers.eventsPerSec / baseline.eventsPerSec).toFixed(3)),
      twoProcessesRatio: Number((twoProcesses.eventsPerSec / baseline.eventsPerSec).toFixed(3)),
      samples: {
        gatekeeper: samples.gatekeeper.map((s) => s.eventsPerSec),
        baseline: samples.baseline.map((s) => s.eventsPerSec),
        memory: samples.memory.map((s) => s.eventsPerSec),
        exactlyOnce: samples.exactlyOnce.map((s) => s.eventsPerSec),
        twoMembers: samples.twoMembers.map((s) => s.eventsPerSec),
        twoProcesses: samples.twoProcesses.map((s) => s.eventsPerSec),
      },
    };
    return figures;
  } finally {
    await admin.deleteTopics({ topics }).catch(() => undefined);
    await admin.disconnect();
    await broker.stop();
  }
}

export function printKafkaFigures(figures: KafkaBenchFigures, log: (line: string) => void): void {
  const line = (name: string, side: KafkaSideFigures, note: string) =>
    log(
      `  ${name.padEnd(10)} ${fmt(side.eventsPerSec).padStart(9)} events/s   ${side.seconds.toFixed(2)} s   max lag ${fmt(side.maxLag)}   ${note}` +
        (side.publishRounds > 0
          ? `
  ${''.padEnd(10)} ${fmt(side.publishRounds)} relay rounds (${fmt(side.rowsPerRound)} rows each), publish tail ${side.publishTailSeconds.toFixed(2)} s`
          : ''),
    );
  log(`  ${figures.rounds === 1 ? 'one round' : `median of ${figures.rounds} rounds`}`);
  line(
    'gatekeeper',
    figures.gatekeeper,
    `(input → gatekeeper with Redis → ${fmt(figures.gatekeeper.produced)} output + dead-letter records)`,
  );
  line('baseline', figures.baseline, '(plain kafkajs consumer forwarding each record)');
  log(`  ratio      ${figures.ratio.toFixed(2)}   (at-least-once, one member)`);
  line(
    'exactly-1',
    figures.exactlyOnce,
    `(Redis, delivery exactly-once, one member: ratio ${figures.exactlyOnceRatio.toFixed(2)}, target ≥ 0.35)`,
  );
  line(
    '2 members',
    figures.twoMembers,
    `(Redis, exactly-once, two members in this process: ratio ${figures.twoMembersRatio.toFixed(2)})`,
  );
  line(
    '2 procs',
    figures.twoProcesses,
    `(Redis, exactly-once, two members, a process each: ratio ${figures.twoProcessesRatio.toFixed(2)})`,
  );
  line(
    'in-memory',
    figures.memory,
    `(same runtime, in-memory store instead of Redis: ratio ${figures.memoryRatio.toFixed(2)})`,
  );
  log(`  gatekeeper lag every 250 ms: ${figures.gatekeeper.lagSamples.map(fmt).join(' ')}`);
}

/** What every gatekeeper side of a run shares: the broker, the input topic and its size, the relay batch. */
interface RoundRun {
  brokers: string;
  input: string;
  total: number;
  relayBatchSize: number | undefined;
}

/** One side's own output and dead-letter topics, and the group id it joins (also its Redis prefix). */
interface SideNames {
  out: string;
  dead: string;
  group: string;
}

async function gatekeeperSide(
  run: RoundRun,
  names: SideNames,
  redisUrl: string | undefined,
  side: { delivery: 'at-least-once' | 'exactly-once'; members: number } = {
    delivery: 'at-least-once',
    members: 1,
  },
): Promise<KafkaSideFigures> {
  const { brokers, input, total, relayBatchSize } = run;
  const { group: groupId, group: prefix } = names;
  const lags = new Map<number, number>();
  let committedRecords = 0;
  let publishRounds = 0;
  let publishedRows = 0;
  const start = () => {
    // With two members, a lag reported by one that just lost the partition must not stick.
    const owned = new Set<number>();
    const multi = side.members > 1;
    return runGatekeeper(
      {
        delivery: side.delivery,
        machines,
        brokers,
        groupId,
        clientId: 'gatekeeper-bench',
        topics: { input: [input], output: names.out, deadLetter: names.dead },
        ...(redisUrl === undefined ? {} : { redis: { url: redisUrl, prefix } }),
        limits: {
          partitionsConsumedConcurrently: 6,
          maxInFlight: 500,
          ...(relayBatchSize === undefined ? {} : { relayBatchSize }),
        },
      },
      {
        metrics: {
          lag: (_topic, partition, lag) => {
            if (!multi || owned.has(partition)) lags.set(partition, lag);
          },
          ownedPartitions: (partitions) => {
            owned.clear();
            for (const partition of partitions) owned.add(partition);
          },
          batch: (_topic, _partition, records) => {
            committedRecords += records;
          },
          published: (_kind, records) => {
            publishRounds += 1;
            publishedRows += records;
          },
        },
      },
    );
  };
  const { members, started } = await startTogether(Array.from({ length: side.members }, () => start));
  const running = members[0] as Awaited<ReturnType<typeof start>>;
  const lagSamples: number[] = [];
  const sampler = setInterval(() => lagSamples.push(sum(lags)), 250);
  try {
    // Done when every input record went through a batch, every partition's lag is 0 and the outbox is empty.
    let decidedAt: number | undefined;
    await until(async () => {
      if (committedRecords < total || [...lags.values()].some((lag) => lag > 0)) return false;
      decidedAt ??= performance.now();
      return queuesDrained(running);
    });
    const seconds = (performance.now() - started) / 1000;
    const publishTailSeconds = (performance.now() - (decidedAt ?? performance.now())) / 1000;
    let produced = 0;
    for (const member of members) produced += member.published().output + member.published().deadLetters;
    return gatekeeperFigures({
      total,
      seconds,
      produced,
      lagSamples,
      publishRounds,
      publishedRows,
      publishTailSeconds,
    });
  } finally {
    clearInterval(sampler);
    await Promise.all(members.map((member) => member.stop()));
    if (redisUrl !== undefined) {
      const redis = new Redis(redisUrl);
      await deleteKeys(redis, `{${prefix}`);
      await redis.quit();
    }
  }
}

/**
 * Like gatekeeperSide with exactly-once and `members` members, each in a child process of its own
 * (bench/kafka-member.ts). The clock starts when the first member joined, as in gatekeeperSide; the
 * children load their modules before any of them starts, so none gets a head start.
 */
async function processesSide(
  run: RoundRun,
  names: SideNames,
  redisUrl: string,
  count: number,
): Promise<KafkaSideFigures> {
  const { brokers, input, total, relayBatchSize } = run;
  const { group: groupId, group: prefix } = names;
  const lags = new Map<number, number>();
  let committedRecords = 0;
  let publishRounds = 0;
  let publishedRows = 0;
  const members = Array.from({ length: count }, () => {
    const child = fork(fileURLToPath(new URL('./kafka-member.ts', import.meta.url)), [], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const owned = new Set<number>();
    const waiting = new Map<MemberReport['type'], (report: MemberReport) => void>();
    let failed: string | undefined;
    child.on('message', (report: MemberReport) => {
      if (report.type === 'lag') {
        // A lag reported by a member that just lost the partition must not stick.
        if (owned.has(report.partition)) lags.set(report.partition, report.lag);
      } else if (report.type === 'owned') {
        owned.clear();
        for (const partition of report.partitions) owned.add(partition);
      } else if (report.type === 'batch') committedRecords += report.records;
      else if (report.type === 'published') {
        publishRounds += 1;
        publishedRows += report.records;
      } else if (report.type === 'failed') failed = report.error;
      waiting.get(report.type)?.(report);
    });
    // A send to a member that already exited is reported by `exited`, not as an unhandled error.
    child.on('error', () => undefined);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const next = <TType extends MemberReport['type']>(type: TType) =>
      new Promise<Extract<MemberReport, { type: TType }>>((resolve, reject) => {
        waiting.set(type, (report) => {
          waiting.delete(type);
          resolve(report as Extract<MemberReport, { type: TType }>);
        });
        void exited.then(() => reject(new Error(`kafka bench: member exited (${failed ?? 'no error'})`)));
      });
    const ask = <TType extends MemberReport['type']>(request: MemberRequest, answer: TType) => {
      const reply = next(answer);
      child.send(request);
      return reply;
    };
    return { child, exited, next, ask };
  });
  const config = {
    delivery: 'exactly-once' as const,
    brokers,
    groupId,
    clientId: 'gatekeeper-bench',
    topics: { input: [input], output: names.out, deadLetter: names.dead },
    redis: { url: redisUrl, prefix },
    limits: {
      partitionsConsumedConcurrently: 6,
      maxInFlight: 500,
      ...(relayBatchSize === undefined ? {} : { relayBatchSize }),
    },
  };
  const stopAll = async (): Promise<number> => {
    let produced = 0;
    await Promise.all(
      members.map(async (member) => {
        if (member.child.exitCode !== null || member.child.signalCode !== null) return;
        if (member.child.connected) {
          const stopped = await within(member.ask({ type: 'stop' }, 'stopped'), 60_000).catch(
            () => undefined,
          );
          produced += stopped?.produced ?? 0;
        }
        if ((await within(member.exited, 10_000)) === undefined) member.child.kill('SIGKILL');
        await member.exited;
      }),
    );
    return produced;
  };
  const lagSamples: number[] = [];
  let sampler: NodeJS.Timeout | undefined;
  try {
    await Promise.all(members.map((member) => member.next('loaded')));
    const { started } = await startTogether(
      members.map((member) => () => member.ask({ type: 'start', config }, 'started')),
    );
    sampler = setInterval(() => lagSamples.push(sum(lags)), 250);
    let decidedAt: number | undefined;
    await until(async () => {
      if (committedRecords < total || [...lags.values()].some((lag) => lag > 0)) return false;
      decidedAt ??= performance.now();
      // Every member idle; the first one reads the whole store's outbox and dead letters.
      const checks = await Promise.all(
        members.map((member, at) => member.ask({ type: 'check', outbox: at === 0 }, 'checked')),
      );
      return checks.every((check) => check.empty);
    });
    const seconds = (performance.now() - started) / 1000;
    const publishTailSeconds = (performance.now() - (decidedAt ?? performance.now())) / 1000;
    clearInterval(sampler);
    const produced = await stopAll();
    return gatekeeperFigures({
      total,
      seconds,
      produced,
      lagSamples,
      publishRounds,
      publishedRows,
      publishTailSeconds,
    });
  } finally {
    clearInterval(sampler);
    await stopAll();
    for (const member of members) if (member.child.exitCode === null) member.child.kill();
    const redis = new Redis(redisUrl);
    await deleteKeys(redis, `{${prefix}`);
    await redis.quit();
  }
}

async function baselineSide(
  kafka: Kafka,
  input: string,
  output: string,
  groupId: string,
  total: number,
): Promise<KafkaSideFigures> {
  const producer = kafka.producer({ maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 1_048_576 });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topics: [input], fromBeginning: true });
  const lags = new Map<number, number>();
  let forwarded = 0;
  const lagSamples: number[] = [];
  await consumer.run({
    eachBatchAutoResolve: false,
    partitionsConsumedConcurrently: 6,
    eachBatch: async (payload) => {
      const { batch } = payload;
      const last = batch.messages[batch.messages.length - 1];
      if (!last) return;
      await producer.send({
        topic: output,
        acks: -1,
        messages: batch.messages.map((m) => ({ key: m.key, value: m.value })),
      });
      payload.resolveOffset(last.offset);
      await payload.heartbeat();
      await payload.commitOffsetsIfNecessary(payload.uncommittedOffsets());
      forwarded += batch.messages.length;
      lags.set(batch.partition, Math.max(0, Number(batch.highWatermark) - Number(last.offset) - 1));
    },
  });
  const started = performance.now();
  const sampler = setInterval(() => lagSamples.push(sum(lags)), 250);
  try {
    await until(() => Promise.resolve(forwarded >= total));
    const seconds = (performance.now() - started) / 1000;
    return {
      eventsPerSec: Math.round(total / seconds),
      seconds,
      produced: forwarded,
      maxLag: Math.max(0, ...lagSamples),
      lagSamples,
      publishRounds: 0,
      rowsPerRound: 0,
      publishTailSeconds: 0,
    };
  } finally {
    clearInterval(sampler);
    await consumer.disconnect();
    await producer.disconnect();
  }
}

export async function produceAll(kafka: Kafka, topic: string, messages: readonly Message[]): Promise<void> {
  const producer = kafka.producer();
  await producer.connect();
  try {
    for (let at = 0; at < messages.length; at += 5_000)
      await producer.send({ topic, acks: -1, messages: messages.slice(at, at + 5_000) });
  } finally {
    await producer.disconnect();
  }
}

/**
 * Starts every member at once. The clock starts when the first can consume: a later one's join and
 * the rebalance it causes are part of what members starting together cost (the first does not
 * wait for them, and would otherwise consume before the clock started).
 */
async function startTogether<TMember>(
  starts: (() => Promise<TMember>)[],
): Promise<{ members: TMember[]; started: number }> {
  let started: number | undefined;
  const members = await Promise.all(
    starts.map((start) =>
      start().then((member) => {
        started ??= performance.now();
        return member;
      }),
    ),
  );
  return { members, started: started ?? performance.now() };
}

/** A gatekeeper side's figures from what it counted while it ran. */
function gatekeeperFigures(counted: {
  total: number;
  seconds: number;
  produced: number;
  lagSamples: number[];
  publishRounds: number;
  publishedRows: number;
  publishTailSeconds: number;
}): KafkaSideFigures {
  const { total, seconds, lagSamples, publishRounds, publishedRows } = counted;
  return {
    eventsPerSec: Math.round(total / seconds),
    seconds,
    produced: counted.produced,
    maxLag: Math.max(0, ...lagSamples),
    lagSamples,
    publishRounds,
    rowsPerRound: publishRounds === 0 ? 0 : Math.round(publishedRows / publishRounds),
    publishTailSeconds: counted.publishTailSeconds,
  };
}

/** True once the member is idle and its store holds no outbox row and no dead letter left to publish. */
export async function queuesDrained(running: Pick<RunningGatekeeper, 'gatekeeper'>): Promise<boolean> {
  await running.gatekeeper.idle();
  const [outbox, dead] = await Promise.all([
    running.gatekeeper.store.readOutbox(1),
    running.gatekeeper.store.readDeadLetters(1),
  ]);
  return outbox.length === 0 && dead.length === 0;
}

export async function until(check: () => Promise<boolean>, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('kafka bench: timed out');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function sum(values: Map<number, number>): number {
  let total = 0;
  for (const value of values.values()) total += value;
  return total;
}

function keyOf(item: unknown): string | null {
  const key = typeof item === 'object' && item !== null ? (item as { key?: unknown }).key : undefined;
  return typeof key === 'string' ? key : null;
}

export async function deleteKeys(redis: Redis, pattern: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${pattern}*`, 'COUNT', 1_000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

export async function ensureBroker(
  given: string | undefined,
): Promise<{ brokers: string; stop: () => Promise<void> }> {
  if (given) return { brokers: given, stop: () => Promise.resolve() };
  // A run dir of its own: the default one may be another run's broker, which stop() would end.
  const parent = mkdtempSync(join(tmpdir(), 'gk-bench-kafka-'));
  const { stdout } = await run('bash', [`${SCRIPTS}start-kafka.sh`], {
    env: { ...process.env, KAFKA_RUN_DIR: join(parent, 'broker') },
    timeout: 600_000,
    maxBuffer: 1 << 20,
  });
  const vars = parseScriptOutput(stdout);
  const brokers = vars.KAFKA_BROKERS;
  const runDir = vars.KAFKA_RUN_DIR;
  if (!brokers || !runDir) throw new Error('start-kafka.sh printed no KAFKA_BROKERS');
  return {
    brokers,
    stop: async () => {
      await run('bash', [`${SCRIPTS}stop-kafka.sh`, runDir], { timeout: 120_000 });
      rmSync(parent, { recursive: true, force: true });
    },
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { values } = parseArgs({
    options: {
      entities: { type: 'string' },
      partitions: { type: 'string' },
      rounds: { type: 'string' },
      'relay-batch': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const log = (line: string) => console.log(line);
  const figures = await benchKafka({
    log,
    ...(values.entities ? { entities: Number(values.entities) } : {}),
    ...(values.partitions ? { partitions: Number(values.partitions) } : {}),
    ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
    ...(values['relay-batch'] ? { relayBatchSize: Number(values['relay-batch']) } : {}),
  });
  printKafkaFigures(figures, log);
  if (values.json) console.log(JSON.stringify(figures));
}
