/**
 * Where a member publishes what it decides. With a store the group shares, the shards follow the
 * input partitions and each owned partition has its own relays (partition-ownership.ts,
 * partition-relays.ts); otherwise the process's two relays publish the whole store
 * (process-relays.ts). Either way a decision wakes the relay that now has its rows, and every
 * relay sends through the one producer made here.
 */
import { Partitioners, type Admin, type Kafka, type Producer } from 'kafkajs';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import type { EffectsEngine } from '../gatekeeper/effects/effects-engine.ts';
import type { EntityStore } from '../store/entity-store.ts';
import type { OwnedShards } from '../store/redis/index.ts';
import { partitionOfKey } from '../store/redis/partition-of-key.ts';
import type { RunConfig } from './config.ts';
import type { RunLogger } from './kafka-client.ts';
import type { MetricsSink } from './metrics.ts';
import { PartitionOwnership } from './partition-ownership.ts';
import { partitionRelays } from './partition-relays.ts';
import { processRelays } from './process-relays.ts';
import type { Relay } from './relay.ts';

export interface PublishingContext {
  kafka: Kafka;
  config: RunConfig;
  log: RunLogger;
  metrics: MetricsSink;
  /** The store the relays read (the relays' own connection, see run-stores.ts). */
  relayStore: EntityStore;
  /** Other members share the store: this member publishes only the partitions it owns. */
  sharedStore: boolean;
  /** With a shared store: the input partition count, which is the shard count. */
  partitions: number | undefined;
  /** The transition handler's runners, started and stopped with each owned partition. */
  effectsEngine: EffectsEngine | undefined;
  /** The producer every relay sends through, made once the topics are known to exist. */
  producer(): Producer;
  /** Stops the member when the assignment cannot be served (see PartitionOwnership). */
  fatal(error: unknown): void;
}

export interface Publishing {
  /** With a shared store: the partitions this member owns, and their relays. */
  ownership: PartitionOwnership | undefined;
  /** Without ownership: the process's relays, to start and stop with the member. */
  processRelays: Relay<AppliedTransition | DeadLetter>[];
  /** For exactly-once delivery: reads the partitions' publishing checkpoints on each claim. */
  checkpointAdmin: Admin | undefined;
  /** A transition was committed: its relay has a row to publish. */
  wakeOutput(transition: AppliedTransition): void;
  /** A dead letter was committed: its relay has a row to publish. */
  wakeDeadLetter(letter: DeadLetter): void;
  /** Rows the relays published so far. */
  published(): { output: number; deadLetters: number };
}

/** Builds (not starts) the member's relays, per owned partition or for the whole process. */
export function memberPublishing(context: PublishingContext): Publishing {
  const { kafka, config, log, metrics, relayStore, sharedStore, partitions, effectsEngine } = context;
  const producer = () => context.producer();
  const single = processRelays({ store: relayStore, producer, config, log, metrics });
  const checkpointAdmin = sharedStore && config.delivery === 'exactly-once' ? kafka.admin() : undefined;
  const ownership =
    sharedStore && partitions !== undefined
      ? new PartitionOwnership({
          owned: (relayStore as { ownership?: OwnedShards }).ownership as OwnedShards,
          shards: partitions,
          relays: (partition) =>
            partitionRelays(partition, {
              owned: (relayStore as { ownership?: OwnedShards }).ownership as OwnedShards,
              producer,
              config,
              log,
              metrics,
              ...(checkpointAdmin ? { exactlyOnce: { kafka, admin: checkpointAdmin } } : {}),
            }),
          log,
          metrics,
          fatal: (error) => context.fatal(error),
          ...(effectsEngine
            ? {
                effects: {
                  start: (p) => effectsEngine.startShard(p),
                  stop: (p) => effectsEngine.stopShard(p),
                },
              }
            : {}),
        })
      : undefined;
  const partitionOf = (key: string | null) =>
    partitions === undefined || key === null ? undefined : partitionOfKey(key, partitions);
  return {
    ownership,
    processRelays: ownership ? [] : single.running,
    checkpointAdmin,
    wakeOutput: (transition) => {
      if (!ownership) single.output.wake();
      else ownership.wake(partitionOf(transition.key) ?? 0, 'output');
    },
    wakeDeadLetter: (letter) => {
      if (!ownership) return single.deadLetters.wake();
      const partition = letter.source?.partition;
      if (typeof partition === 'number') ownership.wake(partition, 'dead-letter');
      else ownership.wakeAll();
    },
    published: () =>
      ownership?.published() ?? { output: single.output.total, deadLetters: single.deadLetters.total },
  };
}

/** The producer the relays send through. */
export function relayProducer(kafka: Kafka): Producer {
  // The default (Java-compatible murmur2) partitioner, named so kafkajs does not warn about it.
  return kafka.producer({
    allowAutoTopicCreation: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
    // Short retries: the relay retries forever anyway, and a failing send (a missing topic, a
    // refused write) is then reported — naming its topic — within seconds, not after minutes.
    retry: { retries: 5, initialRetryTime: 200, maxRetryTime: 2_000 },
  });
}
