/**
 * A real Kafka broker for the tests, through scripts/kafka/*.sh: KAFKA_BROKERS when set (CI sets
 * it), otherwise a broker started here and stopped after the file's tests. Also topic helpers:
 * unique names, creation, producing, and reading a whole topic back.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Kafka, logLevel, type IHeaders, type Message } from 'kafkajs';
import { parseScriptOutput } from '../../../../scripts/script-output.ts';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../../../scripts/kafka/', import.meta.url));

export interface Broker {
  brokers: string;
  /** Set when this file started the broker (so it may stop and restart it). */
  runDir: string | undefined;
  stop(options?: { keep?: boolean }): Promise<void>;
  /** Starts it again on the same run dir and port (only for a broker started here). */
  restart(): Promise<void>;
}

async function startScript(env: Record<string, string>): Promise<Record<string, string>> {
  const clean = { ...process.env };
  delete clean.KAFKA_BROKERS;
  delete clean.KAFKA_PORT;
  const { stdout } = await run('bash', [`${SCRIPTS}start-kafka.sh`], {
    env: { ...clean, ...env },
    timeout: 600_000,
    maxBuffer: 1 << 20,
  });
  return parseScriptOutput(stdout);
}

async function stopScript(runDir: string, keep: boolean): Promise<void> {
  await run('bash', [`${SCRIPTS}stop-kafka.sh`, ...(keep ? ['--keep'] : []), runDir], { timeout: 120_000 });
}

/**
 * A KRaft cluster id (URL-safe base64 of 16 bytes). Given explicitly because start-kafka.sh's own
 * random id starts with "-" about once in 64 runs, which StorageTool then reads as an option.
 */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * Starts a broker of this test file's own, on a fresh run dir; `env` adds start-kafka.sh settings
 * (KAFKA_PORT, KAFKA_CONTROLLER_PORT, KAFKA_EXTRA_PROPS for more listeners…).
 */
export async function startOwnBroker(env: Record<string, string> = {}): Promise<Broker> {
  const parent = mkdtempSync(join(tmpdir(), 'gk-kafka-test-'));
  const runDir = join(parent, 'broker');
  const out = await startScript({ ...env, KAFKA_RUN_DIR: runDir, KAFKA_CLUSTER_ID: clusterId() });
  const brokers = out.KAFKA_BROKERS;
  if (!brokers) throw new Error('start-kafka.sh printed no KAFKA_BROKERS');
  return {
    brokers,
    runDir,
    stop: async (options = {}) => {
      await stopScript(runDir, options.keep ?? false);
      if (!options.keep) rmSync(parent, { recursive: true, force: true });
    },
    restart: async () => {
      // The same settings again: start-kafka.sh rewrites server.properties on every start.
      await startScript({ ...env, KAFKA_RUN_DIR: runDir });
    },
  };
}

/** KAFKA_BROKERS when set, else a broker started for this file. */
export async function sharedBroker(): Promise<Broker> {
  const given = process.env.KAFKA_BROKERS;
  if (given) {
    return {
      brokers: given,
      runDir: undefined,
      stop: () => Promise.resolve(),
      restart: () => Promise.reject(new Error('an external broker cannot be restarted')),
    };
  }
  return startOwnBroker();
}

/** A topic (or group) name no other test uses. */
export function uniqueName(name: string): string {
  return `t-${name}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function client(brokers: string): Kafka {
  return new Kafka({
    clientId: 'gatekeeper-test',
    brokers: brokers.split(','),
    logLevel: logLevel.NOTHING,
    retry: { retries: 10 },
  });
}

export async function createTopics(
  brokers: string,
  topics: readonly string[],
  partitions: number,
): Promise<void> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map((topic) => ({ topic, numPartitions: partitions, replicationFactor: 1 })),
    });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(brokers: string, topics: readonly string[]): Promise<void> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...topics] });
  } catch {
    // best effort
  } finally {
    await admin.disconnect();
  }
}

/** Produces `messages` in order, in chunks. */
export async function produce(
  brokers: string,
  topic: string,
  messages: readonly Message[],
  chunk = 2_000,
): Promise<void> {
  const producer = client(brokers).producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    for (let at = 0; at < messages.length; at += chunk) {
      await producer.send({ topic, acks: -1, messages: messages.slice(at, at + chunk) });
    }
  } finally {
    await producer.disconnect();
  }
}

/** An envelope (or anything) as an input record keyed by its `key` field. */
export function eventMessage(input: unknown): Message {
  const key =
    typeof input === 'object' && input !== null && typeof (input as { key?: unknown }).key === 'string'
      ? (input as { key: string }).key
      : null;
  return { key, value: JSON.stringify(input) };
}

export interface ReadRecord {
  partition: number;
  offset: string;
  key: string | null;
  value: string | null;
  headers: Record<string, string>;
}

/** The high watermark of every partition of `topic`. */
export async function highWatermarks(brokers: string, topic: string): Promise<Map<number, number>> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((entry) => [entry.partition, Number(entry.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** Total records in a topic (sum of high watermarks; the test topics are never compacted or trimmed). */
export async function topicSize(brokers: string, topic: string): Promise<number> {
  let total = 0;
  for (const high of (await highWatermarks(brokers, topic)).values()) total += high;
  return total;
}

/** The committed offsets of a group on a topic, summed (-1 entries count as 0). */
export async function committedTotal(brokers: string, groupId: string, topic: string): Promise<number> {
  const admin = client(brokers).admin();
  await admin.connect();
  try {
    const [entry] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return (entry?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** Reads every record currently in `topic` (up to the high watermarks at call time), partition by partition in offset order. */
export async function readTopic(brokers: string, topic: string): Promise<ReadRecord[]> {
  const highs = await highWatermarks(brokers, topic);
  const wanted = [...highs].filter(([, high]) => high > 0);
  if (wanted.length === 0) return [];
  const consumer = client(brokers).consumer({ groupId: uniqueName('reader'), maxBytesPerPartition: 4 << 20 });
  const records: ReadRecord[] = [];
  const remaining = new Map(wanted);
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`reading ${topic} timed out (${records.length} records read)`)),
        60_000,
      );
      consumer
        .run({
          autoCommit: false,
          eachBatch: async ({ batch }) => {
            const high = remaining.get(batch.partition);
            if (high === undefined) return;
            for (const message of batch.messages) {
              if (Number(message.offset) >= high) break;
              records.push({
                partition: batch.partition,
                offset: message.offset,
                key: message.key?.toString('utf8') ?? null,
                value: message.value?.toString('utf8') ?? null,
                headers: headerStrings(message.headers),
              });
              if (Number(message.offset) === high - 1) remaining.delete(batch.partition);
            }
            if (remaining.size === 0) {
              clearTimeout(timer);
              resolve();
            }
            await Promise.resolve();
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}

/**
 * Reads a topic as a read_committed consumer until nothing new arrived for `quietMs` (transaction
 * markers take offsets, so the high watermark cannot tell when everything was read).
 */
export async function readCommitted(brokers: string, topic: string, quietMs = 4_000): Promise<ReadRecord[]> {
  const consumer = client(brokers).consumer({
    groupId: uniqueName('committed-reader'),
    maxBytesPerPartition: 4 << 20,
  });
  const records: ReadRecord[] = [];
  let last = Date.now();
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        last = Date.now();
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(message.headers ?? {}))
          if (value !== undefined)
            headers[name] = (Array.isArray(value) ? value[0] : value)?.toString() ?? '';
        records.push({
          partition,
          offset: message.offset,
          key: message.key?.toString('utf8') ?? null,
          value: message.value?.toString('utf8') ?? null,
          headers,
        });
        await Promise.resolve();
      },
    });
    const started = Date.now();
    while (Date.now() - last < quietMs || Date.now() - started < quietMs)
      await new Promise((r) => setTimeout(r, 250));
  } finally {
    await consumer.disconnect();
  }
  return records;
}

function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}
