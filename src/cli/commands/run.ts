/**
 * `gatekeeper run`: the gatekeeper as a Kafka consumer process (see docs/kafka.md). Configuration
 * comes from `--config <file>` and/or flags; flags win. Runs until SIGINT/SIGTERM, then finishes
 * in-flight work, commits, publishes the outbox and exits 0; exits 1 when the consumer fails for good.
 */
import type { RunConfigInput } from '../../kafka/config.ts';
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
    'create-topics': { type: 'boolean' },
    'from-latest': { type: 'boolean' },
    verbose: { type: 'boolean' },
    'metrics-port': { type: 'string' },
    inspect: { type: 'string' },
  },
  async run(flags, _positionals, io) {
    const configPath = stringFlag(flags, 'config');
    const config = configPath === undefined ? {} : await loadRunConfigFile(configPath);
    const merged = mergeFlags(config, flags);
    if (merged.machines === undefined)
      throw new UsageError('give --machines (or `machines` in the config file)');
    const observers = await startObservers({
      metricsPort: parsePort('metrics-port', stringFlag(flags, 'metrics-port')),
      inspectUrl: stringFlag(flags, 'inspect'),
      notify: (message) => write(io.stderr, `gatekeeper run: ${message}`),
    });
    try {
      return await runUntilStopped(merged as RunConfigInput, flags, io, observers);
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
    logger: (level: RunLogLevel, message: string) =>
      write(io.stderr, `gatekeeper run: ${level === 'info' ? '' : `${level}: `}${message}`),
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
  write(
    io.stderr,
    `gatekeeper run: ${topics.input.join(',')} -> ${topics.output} (dead letters: ${topics.deadLetter}), group ${groupId}`,
  );
  const crashed = running.done.then(
    () => ({ signal: 'stopped' }),
    (error: unknown) => ({ error }),
  );
  const first = await Promise.race([signal, crashed]);
  if ('error' in first) throw first.error;
  write(io.stderr, `gatekeeper run: ${first.signal}: finishing in-flight work`);
  await running.stop();
  const published = running.published();
  write(
    io.stderr,
    `gatekeeper run: stopped (published ${published.output} transitions, ${published.deadLetters} dead letters)`,
  );
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
