/**
 * The runner owns the lifecycle of a gatekeeper consumer process: it opens the store, the
 * gatekeeper, the producer and the relays, joins the consumer group, and on `stop()` finishes the
 * batch in flight, commits its offsets, leaves the group, publishes what the outbox still holds and
 * disconnects. Crashes are decided by the error's `retriable` flag: a retriable failure (store or
 * broker unreachable) restarts the consumer after a back-off; anything else stops the runner and
 * rejects `done`.
 */
import { Kafka, Partitioners, type Consumer, type Producer } from 'kafkajs';
import type { MachineRegistryInput } from '../core/aggregate.ts';
import { findCause, GatekeeperError } from '../core/errors.ts';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import type { ActorInspector } from '../gatekeeper/actor-cursor.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { memoryStore } from '../store/memory-store.ts';
import { redisStore } from '../store/redis/index.ts';
import { loadMachines } from '../gatekeeper/load-machines.ts';
import { createBatchHandler } from './batch-handler.ts';
import { parseRunConfig, type RunConfig, type RunConfigInput } from './config.ts';
import { registryDisagreements } from '../gatekeeper/version-registry.ts';
import { MetricsSink, type KafkaRuntimeMetrics } from './metrics.ts';
import { deadLetterMessage, minimalDeadLetterMessage, outputMessage } from './output-records.ts';
import { publishRows } from './publish.ts';
import { Relay } from './relay.ts';
import {
  kafkaConfig,
  prepareTopics,
  topicWatch,
  withSaslPassword,
  type RunLogger,
  type RunLogLevel,
} from './kafka-client.ts';
import { describeKafkaError, KafkaStartError } from './kafka-errors.ts';
import { stopSequence } from './stop-sequence.ts';

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
}

/** Starts a gatekeeper consumer; resolves once it has joined its consumer group's run loop. */
export async function runGatekeeper(
  input: RunConfigInput | RunConfig,
  options: RunOptions = {},
): Promise<RunningGatekeeper> {
  const config = await withSaslPassword(parseRunConfig(input));
  const log: RunLogger = options.logger ?? (() => undefined);
  const metrics = new MetricsSink(options.metrics);
  const machines: MachineRegistryInput =
    typeof config.machines === 'string' ? await loadMachines(config.machines) : config.machines;
  const store = options.store ?? openStore(config);
  // The relays get a connection of their own: on the deciding connection each relay read would
  // queue behind thousands of pipelined commits, and publishing would fall far behind deciding.
  const relayStore = options.store ?? (config.redis === undefined ? store : openStore(config));
  /** Other processes may share this store (Redis): then one relay per group publishes. */
  const sharedStore = options.store === undefined && config.redis !== undefined;
  const gatekeeper = createGatekeeperWithStore({
    machines,
    store,
    ...(options.inspect === undefined ? {} : { inspect: options.inspect }),
    ...(config.limits.maxResidentEntities === undefined
      ? {}
      : { maxResidentEntities: config.limits.maxResidentEntities }),
  });
  if ('ready' in store && typeof store.ready === 'function') {
    try {
      await (store.ready as () => Promise<void>)();
    } catch (error) {
      await gatekeeper.close().catch(() => undefined);
      if (relayStore !== store) await relayStore.close().catch(() => undefined);
      throw error;
    }
  }

  let checkTopics: () => void = () => undefined;
  const kafka = new Kafka(kafkaConfig(config, log, options.kafkaLogLevel ?? 'warn', () => checkTopics()));
  checkTopics = topicWatch(kafka, config, log);
  /** One warning per relay per 10 s while publishing keeps failing (it retries with back-off). */
  function relayErrorLog(kind: string, topic: string): (error: unknown) => void {
    let last = 0;
    return (error) => {
      const now = Date.now();
      if (now - last < 10_000) return;
      last = now;
      log(
        'warn',
        `publishing to the ${kind} topic "${topic}" failed, retrying: ${describeKafkaError(error)}`,
      );
    };
  }
  let producer: Producer | undefined;
  let consumer: Consumer | undefined;
  const outputRelay = new Relay<AppliedTransition>({
    kind: 'output',
    read: (limit) => relayStore.readOutbox(limit),
    ack: (ids) => relayStore.ackOutbox(ids),
    publish: (rows) =>
      publishRows({
        producer: producer as Producer,
        topic: config.topics.output,
        rows,
        full: (row) => outputMessage(row.value),
        reduced: (row, reason) => outputMessage(row.value, reason),
        onRefused: (reason) =>
          log('warn', `the broker refused an output record (${reason}); sent without its payload`),
      }),
    ...relayLimits(config),
    metrics,
    onError: relayErrorLog('output', config.topics.output),
  });
  const deadLetterRelay = new Relay<DeadLetter>({
    kind: 'dead-letter',
    read: (limit) => relayStore.readDeadLetters(limit),
    ack: (ids) => relayStore.ackDeadLetters(ids),
    publish: (rows) =>
      publishRows({
        producer: producer as Producer,
        topic: config.topics.deadLetter,
        rows,
        full: (row) => deadLetterMessage(row),
        reduced: (row, reason) => deadLetterMessage(row, reason),
        minimal: (row, reason) => minimalDeadLetterMessage(row, reason),
        onRefused: (reason) =>
          log('warn', `the broker refused a dead-letter record (${reason}); sent without the event`),
      }),
    ...relayLimits(config),
    metrics,
    onError: relayErrorLog('dead-letter', config.topics.deadLetter),
  });
  // With a shared store the relays wait for the group assignment (below) before publishing.
  outputRelay.setActive(!sharedStore);
  deadLetterRelay.setActive(!sharedStore);
  gatekeeper.subscribe({
    onOutcome: (outcome) => metrics.decision(outcome),
    onTransition: () => outputRelay.wake(),
    onRejected: () => deadLetterRelay.wake(),
    // A held entity keeps its events buffered and its partition moving; an operator must act.
    onHeld: (entry) => log('warn', `held ${entry.aggregate}/${entry.key} (${entry.reason}): ${entry.detail}`),
    onListenerError: (error) => log('warn', `metrics hook failed: ${String(error)}`),
  });

  let settle!: { resolve: () => void; reject: (error: unknown) => void };
  const done = new Promise<void>((resolve, reject) => {
    settle = { resolve, reject };
  });
  // `done` may never be awaited by a caller that only calls stop(); don't report it as unhandled.
  done.catch(() => undefined);
  let stopping: Promise<void> | undefined;
  let lastPressureLog = 0;

  /** Set once stop() or a fatal error began: from then on the consumer must never run again. */
  let stopRequested = false;

  const shutdown = (fatal: unknown): Promise<void> =>
    (stopping ??= (async () => {
      stopRequested = true;
      await stopSequence(
        {
          consumer,
          producer,
          gatekeeper,
          relays: [outputRelay, deadLetterRelay] as Relay<unknown>[],
          relayStore,
          store,
          durable: config.redis !== undefined || options.store !== undefined,
          shutdownTimeoutMs: config.limits.shutdownTimeoutMs,
          relayBatchSize: config.limits.relayBatchSize,
          log,
        },
        fatal,
      );
      if (fatal === undefined) settle.resolve();
      else settle.reject(fatal);
    })());

  try {
    await startStep('reading the topics', () => prepareTopics(kafka, config, log));
    // The default (Java-compatible murmur2) partitioner, named so kafkajs does not warn about it.
    producer = kafka.producer({
      allowAutoTopicCreation: true,
      maxInFlightRequests: 1,
      createPartitioner: Partitioners.DefaultPartitioner,
      // Short retries: the relay retries forever anyway, and a failing send (a missing topic, a
      // refused write) is then reported — naming its topic — within seconds, not after minutes.
      retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
    });
    const connectedProducer = producer;
    await startStep('connecting the producer', () => connectedProducer.connect());
    outputRelay.start();
    deadLetterRelay.start();

    consumer = kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: config.limits.sessionTimeoutMs,
      heartbeatInterval: config.limits.heartbeatIntervalMs,
      rebalanceTimeout: config.limits.rebalanceTimeoutMs,
      maxBytesPerPartition: config.limits.maxBytesPerPartition,
      allowAutoTopicCreation: false,
      // Never restart once stopping: a restart scheduled by an outage would rejoin the group.
      retry: {
        retries: 8,
        restartOnFailure: (error) => Promise.resolve(!stopRequested && shouldRestart(error, log)),
      },
    });
    if (sharedStore) {
      // Every process's relays read the same outbox; only the member holding partition 0 of the
      // first input topic publishes, so rows are not produced once per process. After a
      // rebalance another member takes over (a dead member's share waits for its session timeout).
      const leaderTopic = config.topics.input[0] as string;
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        const leads = event.payload.memberAssignment[leaderTopic]?.includes(0) ?? false;
        if (leads !== outputRelay.isActive)
          log('info', leads ? 'this process publishes the outbox' : 'another process publishes the outbox');
        outputRelay.setActive(leads);
        deadLetterRelay.setActive(leads);
      });
    }
    const stoppable = consumer;
    consumer.on(consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      metrics.retry('consumer', error);
      if (stopRequested) {
        // kafkajs sets its restart timer right after this event; stop() clears it.
        if (restart) setImmediate(() => void stoppable.stop().catch(() => undefined));
        return;
      }
      if (restart) log('warn', `consumer failed, restarting: ${describeKafkaError(error)}`);
      else {
        log('error', `consumer failed for good: ${describeKafkaError(error)}`);
        void shutdown(rootCause(error));
      }
    });
    consumer.on(consumer.events.GROUP_JOIN, () => {
      // A restart that slipped through (scheduled before the stop began) must not keep the group.
      if (stopRequested) void stoppable.stop().catch(() => undefined);
    });
    await startStep('connecting the consumer', () => stoppable.connect());
    await startStep('subscribing to the input', () =>
      stoppable.subscribe({ topics: config.topics.input, fromBeginning: config.fromBeginning }),
    );
    await consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      autoCommitInterval: config.limits.commitIntervalMs,
      partitionsConsumedConcurrently: config.limits.partitionsConsumedConcurrently,
      eachBatch: createBatchHandler({
        gatekeeper,
        metrics,
        maxInFlight: config.limits.maxInFlight,
        onBackPressure: (error) => {
          const now = Date.now();
          if (now - lastPressureLog < 10_000) return;
          lastPressureLog = now;
          log('warn', `holding the input until dead letters are published: ${error.message}`);
        },
      }),
    });
  } catch (error) {
    await shutdown(error).catch(() => undefined);
    throw error;
  }

  /** Runs one start-up step; a kafkajs failure becomes one line naming the brokers and the cause. */
  async function startStep(what: string, step: () => Promise<unknown>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (error instanceof GatekeeperError) throw error;
      throw new KafkaStartError(
        `cannot start on Kafka ${config.brokers.join(',')}: ${what} failed: ${describeKafkaError(error)}`,
        error,
      );
    }
  }
  log('info', `consuming ${config.topics.input.join(', ')} as group ${config.groupId}`);
  // Members whose registries disagree (a rolling deploy, a forgotten aggregate) are reported once
  // at start; each entity they hold is logged when it happens (onHeld above).
  void gatekeeper.store.versions().then(
    (rows) => {
      for (const note of registryDisagreements(gatekeeper.aggregates, rows)) log('warn', note);
    },
    (error: unknown) => log('warn', `could not read the store's machine versions: ${String(error)}`),
  );

  return {
    config,
    gatekeeper,
    done,
    stop: async () => {
      await shutdown(undefined);
      await done.catch(() => undefined);
    },
    published: () => ({ output: outputRelay.total, deadLetters: deadLetterRelay.total }),
  };
}

function openStore(config: RunConfig): EntityStore {
  if (config.redis === undefined) return memoryStore({ outbox: true });
  const options = typeof config.redis === 'string' ? { url: config.redis } : config.redis;
  return redisStore({ ...options, outbox: true });
}

function relayLimits(config: RunConfig) {
  return {
    batchSize: config.limits.relayBatchSize,
    idleMs: config.limits.relayIdleMs,
    maxBackoffMs: config.limits.relayMaxBackoffMs,
  };
}

/** kafkajs wraps what eachBatch threw: the gatekeeper's own error in the chain, if any. */
function gatekeeperErrorIn(error: Error): GatekeeperError | undefined {
  return findCause(error, (cause): cause is GatekeeperError => cause instanceof GatekeeperError);
}

/** Restart unless the error (or its cause) is a GatekeeperError that says retrying cannot help. */
function shouldRestart(error: Error, log: RunLogger): boolean {
  const own = gatekeeperErrorIn(error);
  if (own && !own.retriable) log('error', `not retriable: ${own.message}`);
  return own?.retriable ?? true;
}

/** Reports the gatekeeper's own error when there is one. */
function rootCause(error: Error): Error {
  return gatekeeperErrorIn(error) ?? error;
}
