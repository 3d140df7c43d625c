/**
 * The runner owns the lifecycle of a gatekeeper consumer process, in this order: it reads the
 * config, opens the stores (run-stores.ts) and the gatekeeper (member-gatekeeper.ts), checks the
 * topics (start-checks.ts), wires the relays or the partition ownership and the producer
 * (publishing.ts), and joins the consumer group (input-consumer.ts, which also decides which
 * crashes restart it). On `stop()`, a non-retriable crash or a failed start, it finishes the batch
 * in flight, commits its offsets, leaves the group, publishes what the outbox still holds and
 * disconnects (stop-sequence.ts); a fatal error rejects `done`.
 */
import { Kafka, type Consumer, type Producer } from 'kafkajs';
import type { MachineRegistryInput } from '../core/aggregate.ts';
import type { ActorInspector } from '../gatekeeper/actor-cursor.ts';
import type { EffectsOptions, TransitionHandler } from '../gatekeeper/effects/options.ts';
import { effectsEngineOf, type Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { loadMachines } from '../gatekeeper/load-machines.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { parseRunConfig, type RunConfig, type RunConfigInput } from './config.ts';
import { inputConsumer, runInputConsumer } from './input-consumer.ts';
import {
  kafkaConfig,
  topicWatch,
  withSaslPassword,
  type RunLogger,
  type RunLogLevel,
} from './kafka-client.ts';
import { memberGatekeeper, reportRegistryDisagreements, transitionEffects } from './member-gatekeeper.ts';
import { MetricsSink, type KafkaRuntimeMetrics } from './metrics.ts';
import { memberPublishing, relayProducer } from './publishing.ts';
import { openRunStores, storesReady } from './run-stores.ts';
import { countInputPartitions, readTopics, startStep } from './start-checks.ts';
import { stopOnce } from './stop-sequence.ts';

export type { RunLogger, RunLogLevel } from './kafka-client.ts';

export interface RunOptions {
  metrics?: KafkaRuntimeMetrics;
  logger?: RunLogger;
  /** kafkajs log level (default warn). */
  kafkaLogLevel?: RunLogLevel;
  /** Use this store instead of the one the config names (it must keep an outbox). */
  store?: EntityStore;
  /** Receives XState inspection events from every entity actor (GatekeeperOptions.inspect). */
  inspect?: ActorInspector;
  /**
   * The durable transition handler (docs/effects.md): runs for every applied transition after it
   * is committed, at least once, in per-entity order; with a shared Redis store, on the member that
   * owns the entity's input partition. Required with `topics.output: false`.
   */
  onTransition?: TransitionHandler;
  /** How the handler is run (concurrency, attempts, back-off, time limit). */
  effects?: Omit<EffectsOptions, 'onTransition'>;
}

export interface RunningGatekeeper {
  readonly config: RunConfig;
  readonly gatekeeper: Gatekeeper;
  /** Resolves after a clean stop; rejects when the consumer crashed with a non-retriable error. */
  readonly done: Promise<void>;
  /** Finishes in-flight work, commits, leaves the group, publishes the outbox and disconnects. Idempotent. */
  stop(): Promise<void>;
  /** Rows the relays published so far. */
  published(): { output: number; deadLetters: number };
  /** With a shared Redis store: the input partitions this member owns now. */
  partitions(): number[];
}

/** Starts a gatekeeper consumer; resolves once it has joined its consumer group's run loop. */
export async function runGatekeeper(
  input: RunConfigInput | RunConfig,
  options: RunOptions = {},
): Promise<RunningGatekeeper> {
  const config = await withSaslPassword(parseRunConfig(input));
  const effects = transitionEffects(config, options);
  const log: RunLogger = options.logger ?? (() => undefined);
  const metrics = new MetricsSink(options.metrics);
  const machines: MachineRegistryInput =
    typeof config.machines === 'string' ? await loadMachines(config.machines) : config.machines;
  /**
   * Other processes may share this store (Redis): then the shards follow the input partitions and
   * each member decides and publishes only the partitions it is assigned (partition-ownership.ts).
   */
  const sharedStore = options.store === undefined && config.redis !== undefined;
  let checkTopics: () => void = () => undefined;
  const kafka = new Kafka(kafkaConfig(config, log, options.kafkaLogLevel ?? 'warn', () => checkTopics()));
  checkTopics = topicWatch(kafka, config, log);
  let partitions: number | undefined;
  if (sharedStore) {
    // The shard count is the input partition count, so the topics are read before the store opens.
    await readTopics(kafka, config, log);
    partitions = await countInputPartitions(kafka, config);
  }
  const stores = openRunStores(config, {
    given: options.store,
    effects: effects !== undefined,
    partitions,
    shared: sharedStore,
  });
  const { store, relayStore } = stores;
  const gatekeeper = memberGatekeeper({
    config,
    machines,
    stores,
    effects,
    sharedStore,
    inspect: options.inspect,
    log,
  });
  await storesReady(stores, gatekeeper);

  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  const effectsEngine = effectsEngineOf(gatekeeper);
  const publishing = memberPublishing({
    kafka,
    config,
    log,
    metrics,
    relayStore,
    sharedStore,
    partitions,
    effectsEngine,
    producer: () => producer as Producer,
    fatal: (error) => void stop.shutdown(error),
  });
  const { ownership, checkpointAdmin } = publishing;
  gatekeeper.subscribe({
    onOutcome: (outcome) => metrics.decision(outcome),
    onTransition: (transition) => publishing.wakeOutput(transition),
    onRejected: (letter) => publishing.wakeDeadLetter(letter),
    // A held entity keeps its events buffered and its partition moving; an operator must act.
    onHeld: (entry) => log('warn', `held ${entry.aggregate}/${entry.key} (${entry.reason}): ${entry.detail}`),
    onListenerError: (error) => log('warn', `metrics hook failed: ${String(error)}`),
  });

  const stop = stopOnce(() => ({
    consumer,
    producer,
    gatekeeper,
    relays: publishing.processRelays,
    ...(effectsEngine ? { effects: effectsEngine } : {}),
    ...(ownership ? { ownership } : {}),
    ...(checkpointAdmin ? { admin: checkpointAdmin } : {}),
    relayStore,
    store,
    durable: config.redis !== undefined || options.store !== undefined,
    shutdownTimeoutMs: config.limits.shutdownTimeoutMs,
    relayBatchSize: config.limits.relayBatchSize,
    log,
  }));

  try {
    if (!sharedStore) await readTopics(kafka, config, log);
    producer = relayProducer(kafka);
    const connectedProducer = producer;
    await startStep(config, 'connecting the producer', () => connectedProducer.connect());
    if (checkpointAdmin)
      await startStep(config, 'connecting the checkpoint reader', () => checkpointAdmin.connect());
    for (const relay of publishing.processRelays) relay.start();

    const input = { kafka, config, log, metrics, gatekeeper, ownership, partitions, stop };
    consumer = inputConsumer(input);
    await runInputConsumer(consumer, input);
  } catch (error) {
    await stop.shutdown(error).catch(() => undefined);
    throw error;
  }

  log('info', `consuming ${config.topics.input.join(', ')} as group ${config.groupId}`);
  reportRegistryDisagreements(gatekeeper, log);

  return {
    config,
    gatekeeper,
    done: stop.done,
    stop: async () => {
      await stop.shutdown(undefined);
      await stop.done.catch(() => undefined);
    },
    published: () => publishing.published(),
    partitions: () => ownership?.partitions ?? [],
  };
}
