/**
 * The kafkajs side of the runner: the client configuration (its log lines routed to the run
 * logger with their details kept), creating missing topics, and checking at start that the topics
 * exist, so a typo or a deleted topic is named instead of retried in silence.
 */
import { readFile } from 'node:fs/promises';
import { logLevel, type Kafka, type KafkaConfig, type LogEntry } from 'kafkajs';
import { publishedTopics, type RunConfig } from './config.ts';
import { describeKafkaError, KafkaStartError } from './kafka-errors.ts';

export type RunLogLevel = 'error' | 'warn' | 'info';

/** Where the runner (and kafkajs) report what happens; default: nowhere. */
export type RunLogger = (level: RunLogLevel, message: string, extra?: Record<string, unknown>) => void;

/**
 * The kafkajs client configuration; kafkajs's log entries go to `log` with their fields.
 * `onUnknownTopic` is called when kafkajs reports a topic the broker does not host (its own line
 * never says which one).
 */
export function kafkaConfig(
  config: RunConfig,
  log: RunLogger,
  level: RunLogLevel,
  onUnknownTopic: () => void = () => undefined,
): KafkaConfig {
  const levels = { error: logLevel.ERROR, warn: logLevel.WARN, info: logLevel.INFO } as const;
  const names: Partial<Record<logLevel, RunLogLevel>> = {
    [logLevel.ERROR]: 'error',
    [logLevel.WARN]: 'warn',
    [logLevel.INFO]: 'info',
  };
  return {
    clientId: config.clientId,
    brokers: config.brokers,
    ...(config.ssl === undefined ? {} : { ssl: config.ssl }),
    ...(config.sasl === undefined ? {} : { sasl: saslOf(config.sasl) }),
    logLevel: levels[level],
    logCreator:
      () =>
      ({ level: entryLevel, namespace, log: entry }: LogEntry) => {
        const { message, timestamp: _timestamp, logger: _logger, stack: _stack, ...extra } = entry;
        // The error object (when kafkajs passes one) becomes its whole cause chain, no stack.
        if (extra.error !== undefined) extra.error = describeKafkaError(extra.error);
        if (UNKNOWN_TOPIC.test(`${message} ${String(extra.error ?? '')}`)) onUnknownTopic();
        log(names[entryLevel] ?? 'info', `kafkajs${namespace ? ` ${namespace}` : ''}: ${message}`, extra);
      },
  };
}

function saslOf(sasl: NonNullable<RunConfig['sasl']>): NonNullable<KafkaConfig['sasl']> {
  if (sasl.password === undefined)
    throw new KafkaStartError(
      'sasl.password is missing: give it with sasl.passwordFile, the KAFKA_SASL_PASSWORD environment variable or --sasl-password-file',
    );
  return { mechanism: sasl.mechanism, username: sasl.username, password: sasl.password } as NonNullable<
    KafkaConfig['sasl']
  >;
}

const UNKNOWN_TOPIC = /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/;
/** At most one topic check per this many ms while kafkajs keeps reporting unknown topics. */
const TOPIC_CHECK_EVERY_MS = 10_000;

/**
 * A check, run at most every 10 s, that names the configured topics the broker no longer has
 * (deleted while running): consuming or publishing them waits until they exist again.
 */
export function topicWatch(kafka: Kafka, config: RunConfig, log: RunLogger): () => void {
  let last = 0;
  let running = false;
  return () => {
    const now = Date.now();
    if (running || now - last < TOPIC_CHECK_EVERY_MS) return;
    last = now;
    running = true;
    void (async () => {
      const admin = kafka.admin();
      try {
        await admin.connect();
        const existing = new Set(await admin.listTopics());
        const named: [string, string][] = [
          ...config.topics.input.map((topic): [string, string] => ['input', topic]),
          ...publishedTopics(config),
        ];
        for (const [what, topic] of named)
          if (!existing.has(topic))
            log(
              'warn',
              `${what} topic "${topic}" no longer exists on ${config.brokers.join(',')}: waiting until it is created again`,
            );
      } catch {
        // The broker is unreachable: kafkajs's own lines say so.
      } finally {
        await admin.disconnect().catch(() => undefined);
        running = false;
      }
    })();
  };
}

/** Creates the missing topics (`createTopics` in the config), then checks that they all exist. */
export async function prepareTopics(kafka: Kafka, config: RunConfig, log: RunLogger): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const existing = new Set(await admin.listTopics());
    const all = [...new Set([...config.topics.input, ...publishedTopics(config).map(([, topic]) => topic)])];
    let missing = all.filter((topic) => !existing.has(topic));
    if (missing.length > 0 && config.createTopics !== false) {
      const settings = config.createTopics === true ? {} : config.createTopics;
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((topic) => ({
          topic,
          numPartitions: settings.partitions ?? 1,
          replicationFactor: settings.replicationFactor ?? 1,
        })),
      });
      missing = [];
    }
    const input = config.topics.input.filter((topic) => missing.includes(topic));
    if (input.length > 0)
      throw new KafkaStartError(
        `input topic ${input.map((topic) => `"${topic}"`).join(', ')} does not exist on ${config.brokers.join(',')}: create it, or pass --create-topics`,
      );
    for (const [what, topic] of publishedTopics(config)) {
      if (missing.includes(topic))
        log(
          'warn',
          `${what} topic "${topic}" does not exist: publishing waits until it is created (by the broker on first write, if auto.create.topics.enable is on)`,
        );
    }
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The config with `sasl.passwordFile` read into `sasl.password` (one trailing newline dropped). */
export async function withSaslPassword(config: RunConfig): Promise<RunConfig> {
  const file = config.sasl?.passwordFile;
  if (config.sasl === undefined || file === undefined) return config;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new KafkaStartError(`cannot read sasl.passwordFile ${file}: ${(error as Error).message}`, error);
  }
  const { passwordFile: _file, ...sasl } = config.sasl;
  return { ...config, sasl: { ...sasl, password: text.replace(/\r?\n$/, '') } };
}
