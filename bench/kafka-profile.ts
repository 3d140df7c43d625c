/**
 * One gatekeeper side of the Kafka benchmark alone, under the CPU profiler: where a member's Node
 * thread spends its time from the group join until the outbox is empty (docs/kafka.md, "Where the
 * end-to-end path spends"). Prints events/s and the self time grouped by the innermost frame of
 * ours or of a package; `--out FILE` keeps the .cpuprofile (Chrome DevTools, speedscope).
 *
 *   KAFKA_BROKERS=… REDIS_URL=… node --import tsx bench/kafka-profile.ts [--delivery exactly-once|at-least-once] [--memory] [--out FILE] [--plain]
 */
import { writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { Session, type Profiler } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { Kafka, logLevel, type Message } from 'kafkajs';
import machines from '../machines/index.ts';
import { demoStream } from '../src/demo/stream.ts';
import { runGatekeeper } from '../src/kafka/index.ts';
import { deleteKeys, produceAll, queuesDrained, until } from './kafka.ts';

const GROUPS: [string, RegExp][] = [
  ['garbage collection', /^\(garbage collector\)$/],
  ['idle', /^\(idle\)$/],
  [
    'kafkajs producing',
    /kafkajs\/src\/(producer|protocol\/requests\/produce|protocol\/recordBatch\/(record\/v0\/index|header|v0\/index)|protocol\/encoder)/,
  ],
  ['kafkajs consuming', /kafkajs\/src\/(consumer|protocol\/requests\/fetch|protocol\/.*decoder)/],
  ['relays', /src\/kafka\/(relay|transactional-relay|partition-relays|output-records|publish)\.ts/],
  ['record decoding, batch handler', /src\/kafka\/(record|batch-handler|offset-tracker)\.ts/],
  ['Redis store, ioredis', /src\/store\/redis|ioredis|redis-parser/],
  ['memory store', /src\/store\/memory/],
  ['deciding (gatekeeper, core, xstate, zod)', /src\/(core|gatekeeper)|xstate|zod/],
  ['kafkajs other', /kafkajs/],
];

/** Self time per group: each sample goes to the innermost frame that matches a group. */
function breakdown(profile: Profiler.Profile): [string, number][] {
  const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
  const parents = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node.id);
  const shares = new Map<string, number>();
  let total = 0;
  profile.samples?.forEach((id, at) => {
    const delta = profile.timeDeltas?.[at] ?? 0;
    total += delta;
    let group = 'Node internals, unattributed';
    for (let current: number | undefined = id; current !== undefined; current = parents.get(current)) {
      const frame = nodes.get(current)?.callFrame;
      const found = frame && GROUPS.find(([, test]) => test.test(frame.url) || test.test(frame.functionName));
      if (found) {
        group = found[0];
        break;
      }
    }
    shares.set(group, (shares.get(group) ?? 0) + delta);
  });
  return [...shares]
    .map(([group, time]): [string, number] => [group, time / total])
    .sort((a, b) => b[1] - a[1]);
}

const { values } = parseArgs({
  options: {
    delivery: { type: 'string' },
    memory: { type: 'boolean' },
    out: { type: 'string' },
    // Time the side without the profiler (for A/B runs): events/s and Node CPU per event only.
    plain: { type: 'boolean' },
  },
});
const delivery = values.delivery === 'at-least-once' ? 'at-least-once' : 'exactly-once';
const brokers = process.env.KAFKA_BROKERS;
const redisUrl = values.memory ? undefined : (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
if (!brokers) throw new Error('kafka-profile: set KAFKA_BROKERS');
const kafka = new Kafka({
  clientId: 'gatekeeper-profile',
  brokers: brokers.split(','),
  logLevel: logLevel.NOTHING,
});
const tag = `profile-${process.pid}-${randomBytes(3).toString('hex')}`;
const topics = { input: `${tag}-in`, output: `${tag}-out`, deadLetter: `${tag}-dead` };
const admin = kafka.admin();
await admin.connect();
const messages: Message[] = demoStream({ entities: 20_000 }).inputs.map((item) => {
  const key = typeof item === 'object' && item !== null ? (item as { key?: unknown }).key : undefined;
  return { key: typeof key === 'string' ? key : null, value: JSON.stringify(item) };
});
await admin.createTopics({
  waitForLeaders: true,
  topics: Object.values(topics).map((topic) => ({ topic, numPartitions: 6, replicationFactor: 1 })),
});
await produceAll(kafka, topics.input, messages);
const lags = new Map<number, number>();
let decided = 0;
const running = await runGatekeeper(
  {
    delivery: redisUrl === undefined ? 'at-least-once' : delivery,
    machines,
    brokers,
    groupId: `${tag}-group`,
    clientId: 'gatekeeper-profile',
    topics: { input: [topics.input], output: topics.output, deadLetter: topics.deadLetter },
    ...(redisUrl === undefined ? {} : { redis: { url: redisUrl, prefix: tag } }),
    limits: { partitionsConsumedConcurrently: 6, maxInFlight: 500 },
  },
  {
    metrics: {
      lag: (_topic, partition, lag) => lags.set(partition, lag),
      batch: (_topic, _partition, records) => (decided += records),
    },
  },
);
const session = new Session();
if (!values.plain) {
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
}
const started = performance.now();
const cpuAtStart = process.cpuUsage();
try {
  await until(async () => {
    if (decided < messages.length || [...lags.values()].some((lag) => lag > 0)) return false;
    return queuesDrained(running);
  });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuAtStart);
  const cpuPerEvent = (cpu.user + cpu.system) / messages.length;
  const side = redisUrl === undefined ? 'memory store, at-least-once' : `Redis, ${delivery}`;
  const rate = `${Math.round(messages.length / seconds)} events/s, ${cpuPerEvent.toFixed(1)} µs of Node CPU per event`;
  if (values.plain) console.log(`${side}: ${rate} (${seconds.toFixed(2)} s)`);
  else {
    const { profile } = await session.post('Profiler.stop');
    if (values.out) writeFileSync(values.out, JSON.stringify(profile));
    console.log(`${side}: ${rate} (${seconds.toFixed(2)} s, under the profiler)`);
    for (const [group, share] of breakdown(profile))
      console.log(`  ${(share * 100).toFixed(1).padStart(5)} %  ${group}`);
  }
} finally {
  await running.stop();
  if (redisUrl !== undefined) {
    const redis = new Redis(redisUrl);
    await deleteKeys(redis, `{${tag}`);
    await redis.quit();
  }
  await admin.deleteTopics({ topics: Object.values(topics) }).catch(() => undefined);
  await admin.disconnect();
}
