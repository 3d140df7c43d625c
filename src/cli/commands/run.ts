/**
 * `gatekeeper run`: the gatekeeper as a Kafka consumer process (see docs/kafka.md). Configuration
 * comes from `--config <file>` and/or flags; flags win. Runs until SIGINT/SIGTERM, then finishes
 * in-flight work, commits, publishes the outbox and exits 0; exits 1 when the consumer fails for good.
 */
import { readFile } from 'node:fs/promises';
import { GatekeeperError } from '../../core/errors.ts';
import type { RunConfigInput } from '../../kafka/config.ts';
import { describeKafkaError } from '../../kafka/kafka-errors.ts';
import { loadRunConfigFile } from '../../kafka/config-file.ts';
import { runGatekeeper, type RunLogLevel } from '../../kafka/runner.ts';
import type { KafkaRuntimeMetrics } from '../../kafka/metrics.ts';
import { parsePort, startObservers, type Observers } from '../../observe/observers.ts';
import {
  booleanFlag,
  EXIT,
  stringFlag,
  write,
  type CliIO,
  type Command,
  type FlagValues,
} from '../command.ts';
import { UsageError } from '../usage-error.ts';
import { runLogLine, secretsOf, type RunLineLevel } from '../run-log.ts';

export const runCommand: Command = {
  name: 'run',
  usage: `Usage: gatekeeper run [--config <file>] [flags]

Joins a Kafka consumer group on the input topic(s), decides every event with the machines,
publishes each applied transition to the output topic (keyed by entity, in per-entity order) and
every rejected or unreadable record to the dead-letter topic. Stops cleanly on SIGINT/SIGTERM.

  --config <file>       .json, .ts or .mjs module with the configuration (see docs/kafka.md)
  --machines <module>   machines module (default export: aggregate name -> machine)
  --brokers <list>      host:port[,host:port...]
  --group <id>          consumer group id
  --input <topic>       input topic; repeat the flag or give a comma list
  --output <topic>      output topic for applied transitions
  --dead-letter <topic> dead-letter topic
  --redis <url>         redis://host:port (default: in-memory store, single process, not durable)
  --client-id <id>      Kafka client id (default gatekeeper)
  --sasl-mechanism <m>  plain, scram-sha-256 or scram-sha-512 (with --sasl-username)
  --sasl-username <u>   SASL user; the password comes from KAFKA_SASL_PASSWORD or
  --sasl-password-file <file>  a file holding only the password (never on the command line)
  --create-topics       create missing topics (1 partition) at start
  --from-latest         a new consumer group starts at the end of the input, not the beginning
  --verbose             also log kafkajs info messages
  --metrics-port <port> serve Prometheus metrics on http://127.0.0.1:<port>/metrics
  --inspect <ws-url>    send XState inspection events of every entity actor to a WebSocket server

Example:
  gatekeeper run --machines ./my-machines.mjs --brokers 127.0.0.1:9092 --group g \\
    --input events --output gated --dead-letter rejected --redis redis://127.0.0.1:6379`,
  options: {
    config: { type: 'string' },
    machines: { type: 'string' },
    brokers: { type: 'string' },
    group: { type: 'string' },
    input: { type: 'string', multiple: true },
    output: { type: 'string' },
    'dead-letter': { type: 'string' },
    redis: { type: 'string' },
    'client-id': { type: 'string' },
    'sasl-mechanism': { type: 'string' },
    'sasl-username': { type: 'string' },
    'sasl-password-file': { type: 'string' },
    'create-topics': { type: 'boolean' },
    'from-latest': { type: 'boolean' },
    verbose: { type: 'boolean' },
    'metrics-port': { type: 'string' },
    inspect: { type: 'string' },
  },
  async run(flags, _positionals, io) {
    const configPath = stringFlag(flags, 'config');
    const config = configPath === undefined ? {} : await loadRunConfigFile(configPath);
    const merged = await withSaslPassword(mergeFlags(config, flags), io.env);
    if (merged.machines === undefined)
      throw new UsageError('give --machines (or `machines` in the config file)');
    const secrets = secretsOf(merged);
    const line = (level: RunLineLevel, message: string, extra?: Record<string, unknown>) =>
      write(io.stderr, runLogLine(level, message, extra, secrets));
    const observers = await startObservers({
      metricsPort: parsePort('metrics-port', stringFlag(flags, 'metrics-port')),
      inspectUrl: stringFlag(flags, 'inspect'),
      notify: (message) => line('info', message),
    });
    try {
      return await runUntilStopped(merged as RunConfigInput, flags, io, observers, line);
    } catch (error) {
      // One line, no stack: the cause chain says what failed (kafkajs's broker and error name kept).
      if (error instanceof UsageError) throw error;
      line('error', error instanceof GatekeeperError ? error.message : describeKafkaError(error));
      return EXIT.failure;
    } finally {
      await observers.close();
    }
  },
};

async function runUntilStopped(
  config: RunConfigInput,
  flags: FlagValues,
  io: CliIO,
  observers: Observers,
  line: (level: RunLineLevel, message: string, extra?: Record<string, unknown>) => void,
): Promise<number> {
  // Listen before starting: a SIGTERM during start-up then stops cleanly once started.
  const signal = io.stopSignal().then((name) => ({ signal: name }));
  // The metrics exist only once the gatekeeper does (observers.attach); the hooks look them up.
  const kafka = (): KafkaRuntimeMetrics | undefined => observers.metrics()?.kafka;
  /** The latest assignment and lags: they may arrive before the metrics exist, and are replayed once they do. */
  let owned: readonly number[] | undefined;
  const lags = new Map<string, [string, number, number]>();
  // runGatekeeper validates the merged object with zod; the cast only hands it over.
  const running = await runGatekeeper(config, {
    kafkaLogLevel: booleanFlag(flags, 'verbose') ? 'info' : 'warn',
    logger: (level: RunLogLevel, message: string, extra?: Record<string, unknown>) =>
      line(level, message, extra),
    ...(observers.inspect ? { inspect: observers.inspect } : {}),
    metrics: {
      lag: (topic, partition, lag) => {
        lags.set(`${topic}\u0000${partition}`, [topic, partition, lag]);
        kafka()?.lag?.(topic, partition, lag);
      },
      batch: (topic, partition, records, ms) => kafka()?.batch?.(topic, partition, records, ms),
      backlog: (kind, rows) => kafka()?.backlog?.(kind, rows),
      published: (kind, records, partition) => kafka()?.published?.(kind, records, partition),
      retry: (where, error) => kafka()?.retry?.(where, error),
      ownedPartitions: (partitions) => {
        owned = partitions;
        kafka()?.ownedPartitions?.(partitions);
      },
      partitionBacklog: (kind, partition, rows) => kafka()?.partitionBacklog?.(kind, partition, rows),
      publishLag: (kind, partition, ms) => kafka()?.publishLag?.(kind, partition, ms),
    },
  });
  await observers.attach(running.gatekeeper);
  if (owned !== undefined) kafka()?.ownedPartitions?.(owned);
  for (const [topic, partition, lag] of lags.values()) kafka()?.lag?.(topic, partition, lag);
  const { topics, groupId } = running.config;
  line(
    'info',
    `${topics.input.join(',')} -> ${topics.output} (dead letters: ${topics.deadLetter}), group ${groupId}`,
  );
  const crashed = running.done.then(
    () => ({ signal: 'stopped' }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([signal, crashed]);
  if ('error' in first) throw first.error;
  line('info', `${first.signal}: finishing in-flight work`);
  await running.stop();
  const published = running.published();
  line('info', `stopped (published ${published.output} transitions, ${published.deadLetters} dead letters)`);
  return EXIT.ok;
}

/** Flags override the file's values; input topics from flags replace the file's. */
function mergeFlags(config: Record<string, unknown>, flags: FlagValues): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...config };
  const set = (field: string, value: unknown) => {
    if (value !== undefined) merged[field] = value;
  };
  set('machines', stringFlag(flags, 'machines'));
  set('brokers', stringFlag(flags, 'brokers'));
  set('groupId', stringFlag(flags, 'group'));
  set('redis', stringFlag(flags, 'redis'));
  set('clientId', stringFlag(flags, 'client-id'));
  const mechanism = stringFlag(flags, 'sasl-mechanism');
  const username = stringFlag(flags, 'sasl-username');
  const passwordFile = stringFlag(flags, 'sasl-password-file');
  if (mechanism !== undefined || username !== undefined || passwordFile !== undefined) {
    const sasl =
      typeof config.sasl === 'object' && config.sasl !== null
        ? { ...(config.sasl as Record<string, unknown>) }
        : {};
    if (mechanism !== undefined) sasl.mechanism = mechanism;
    if (username !== undefined) sasl.username = username;
    if (passwordFile !== undefined) {
      sasl.passwordFile = passwordFile;
      delete sasl.password;
    }
    merged.sasl = sasl;
  }
  if (booleanFlag(flags, 'create-topics')) merged.createTopics = true;
  if (booleanFlag(flags, 'from-latest')) merged.fromBeginning = false;
  const input = flags.input;
  const output = stringFlag(flags, 'output');
  const deadLetter = stringFlag(flags, 'dead-letter');
  if (Array.isArray(input) || output !== undefined || deadLetter !== undefined) {
    const topics =
      typeof config.topics === 'object' && config.topics !== null
        ? { ...(config.topics as Record<string, unknown>) }
        : {};
    if (Array.isArray(input)) topics.input = input.flatMap((item) => String(item).split(','));
    if (output !== undefined) topics.output = output;
    if (deadLetter !== undefined) topics.deadLetter = deadLetter;
    merged.topics = topics;
  }
  return merged;
}

/**
 * The SASL password read here, so it is known to the log redaction and never needs the command
 * line: from `sasl.passwordFile` (one trailing newline dropped), else KAFKA_SASL_PASSWORD when the
 * configuration gives none.
 */
async function withSaslPassword(
  merged: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
): Promise<Record<string, unknown>> {
  if (typeof merged.sasl !== 'object' || merged.sasl === null) return merged;
  const sasl = { ...(merged.sasl as Record<string, unknown>) };
  if (typeof sasl.passwordFile === 'string') {
    try {
      sasl.password = (await readFile(sasl.passwordFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new UsageError(
        `cannot read the SASL password file ${sasl.passwordFile}: ${(error as Error).message}`,
      );
    }
    delete sasl.passwordFile;
  } else if (sasl.password === undefined && env.KAFKA_SASL_PASSWORD !== undefined) {
    sasl.password = env.KAFKA_SASL_PASSWORD;
  }
  return { ...merged, sasl };
}
