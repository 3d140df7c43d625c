/**
 * The member's consumer of the input topics: it joins the group (with the co-partitioned assigner
 * when partitions are owned), hands each batch to the gatekeeper, and decides what a crash means.
 * Crashes are decided by the error's `retriable` flag: a retriable failure (store or broker
 * unreachable) restarts the consumer after kafkajs's back-off; anything else stops the member.
 * Once a stop began, the consumer never runs again.
 */
import type { Consumer, Kafka } from 'kafkajs';
import { findCause, GatekeeperError } from '../core/errors.ts';
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { createBatchHandler } from './batch-handler.ts';
import { coPartitionedAssigner } from './co-partitioned-assigner.ts';
import type { RunConfig } from './config.ts';
import type { RunLogger } from './kafka-client.ts';
import { describeKafkaError } from './kafka-errors.ts';
import type { MetricsSink } from './metrics.ts';
import type { PartitionOwnership } from './partition-ownership.ts';
import { misplacedKey } from './partition-relays.ts';
import { startStep } from './start-checks.ts';
import type { RunnerStop } from './stop-sequence.ts';

export interface InputConsumerContext {
  kafka: Kafka;
  config: RunConfig;
  log: RunLogger;
  metrics: MetricsSink;
  gatekeeper: Gatekeeper;
  /** With a shared store: the partitions this member owns (claimed on each assignment). */
  ownership: PartitionOwnership | undefined;
  /** With a shared store: the input partition count, which is the shard count. */
  partitions: number | undefined;
  /** A non-retriable crash begins it; once begun, no restart. */
  stop: Pick<RunnerStop, 'requested' | 'shutdown'>;
}

/** Makes the consumer, listening to its group and its crashes; `runInputConsumer` connects it. */
export function inputConsumer(context: InputConsumerContext): Consumer {
  const { config, log, metrics, ownership, stop } = context;
  const consumer = context.kafka.consumer({
    groupId: config.groupId,
    sessionTimeout: config.limits.sessionTimeoutMs,
    heartbeatInterval: config.limits.heartbeatIntervalMs,
    rebalanceTimeout: config.limits.rebalanceTimeoutMs,
    maxBytesPerPartition: config.limits.maxBytesPerPartition,
    allowAutoTopicCreation: false,
    // Never restart once stopping: a restart scheduled by an outage would rejoin the group.
    retry: {
      retries: 8,
      restartOnFailure: (error) => Promise.resolve(!stop.requested && shouldRestart(error, log)),
    },
    ...(ownership ? { partitionAssigners: [coPartitionedAssigner] } : {}),
  });
  if (ownership) {
    // Partition p of every input topic is one shard, assigned to one member (the co-partitioned
    // assigner): that member claims the shard, decides its records and publishes its rows.
    consumer.on(consumer.events.GROUP_JOIN, (event) => {
      const assigned = config.topics.input.flatMap((topic) => event.payload.memberAssignment[topic] ?? []);
      ownership.assign(assigned);
    });
  }
  consumer.on(consumer.events.CRASH, (event) => {
    const { error, restart } = event.payload;
    metrics.retry('consumer', error);
    if (stop.requested) {
      // kafkajs sets its restart timer right after this event; stop() clears it.
      if (restart) setImmediate(() => void consumer.stop().catch(() => undefined));
      return;
    }
    if (restart) log('warn', `consumer failed, restarting: ${describeKafkaError(error)}`);
    else {
      log('error', `consumer failed for good: ${describeKafkaError(error)}`);
      void stop.shutdown(rootCause(error));
    }
  });
  consumer.on(consumer.events.GROUP_JOIN, () => {
    // A restart that slipped through (scheduled before the stop began) must not keep the group.
    if (stop.requested) void consumer.stop().catch(() => undefined);
  });
  return consumer;
}

/** Connects, subscribes to the input and starts the run loop, batches going to the gatekeeper. */
export async function runInputConsumer(consumer: Consumer, context: InputConsumerContext): Promise<void> {
  const { config, log, metrics, gatekeeper, ownership, partitions } = context;
  await startStep(config, 'connecting the consumer', () => consumer.connect());
  await startStep(config, 'subscribing to the input', () =>
    consumer.subscribe({ topics: config.topics.input, fromBeginning: config.fromBeginning }),
  );
  let lastPressureLog = 0;
  await consumer.run({
    eachBatchAutoResolve: false,
    autoCommit: true,
    autoCommitInterval: config.limits.commitIntervalMs,
    partitionsConsumedConcurrently: config.limits.partitionsConsumedConcurrently,
    eachBatch: createBatchHandler({
      gatekeeper,
      metrics,
      maxInFlight: config.limits.maxInFlight,
      ...(ownership && partitions !== undefined
        ? {
            beforeBatch: (_topic: string, partition: number) => ownership.ready(partition),
            misplaced: misplacedKey(partitions),
          }
        : {}),
      onBackPressure: (error) => {
        const now = Date.now();
        if (now - lastPressureLog < 10_000) return;
        lastPressureLog = now;
        log('warn', `holding the input until dead letters are published: ${error.message}`);
      },
    }),
  });
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
