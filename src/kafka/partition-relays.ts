/**
 * What a member runs for each input partition it owns with a shared Redis store: the partition's
 * output and dead-letter relays, and the check that a record's key belongs on its partition.
 */
import type { Producer } from 'kafkajs';
import { GatekeeperError } from '../core/errors.ts';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import type { OwnedShards } from '../store/redis/owned-shards.ts';
import type { RunConfig } from './config.ts';
import type { MetricsSink } from './metrics.ts';
import { deadLetterMessage, outputMessage } from './output-records.ts';
import { partitionOfKey } from '../store/redis/partition-of-key.ts';
import { publishRows } from './publish.ts';
import { Relay } from './relay.ts';

type RunLogger = (level: 'error' | 'warn' | 'info', message: string, extra?: Record<string, unknown>) => void;

/** Why a record key cannot be decided on a partition: its entity's shard is another partition's. */
export function misplacedKey(partitions: number) {
  return (key: string, partition: number): string | undefined => {
    const home = partitionOfKey(key, partitions);
    return home === partition
      ? undefined
      : `the record key ${JSON.stringify(key)} belongs on partition ${home} of ${partitions} under Kafka's default ` +
          `partitioner but arrived on partition ${partition}: each entity is kept in its key's partition, so producers ` +
          'must use the default (murmur2) partitioner';
  };
}

export interface PartitionRelayContext {
  owned: OwnedShards;
  producer(): Producer;
  config: RunConfig;
  log: RunLogger;
  metrics: MetricsSink;
}

/**
 * The relays of one owned partition: read its shard's rows, check the claim still stands, produce,
 * delete (the delete is fenced by the claim in Redis, so a member that lost the partition never
 * deletes rows its successor must publish).
 */
export function partitionRelays(partition: number, context: PartitionRelayContext) {
  const { owned, config, log, metrics } = context;
  const claimed = async () => {
    if (!(await owned.stillHeld(partition)))
      throw new GatekeeperError(
        `partition ${partition} was claimed by another member; not publishing its rows`,
        {
          code: 'SHARD_FENCED',
          retriable: true,
        },
      );
  };
  const lag = <TRow extends { id: string }>(kind: 'output' | 'dead-letter', rows: TRow[]): TRow[] => {
    const oldest = rows[0]?.id;
    const ms =
      oldest === undefined ? NaN : Number(oldest.slice(oldest.indexOf('/') + 1, oldest.indexOf('-')));
    metrics.publishLag(kind, partition, Number.isFinite(ms) ? Math.max(0, Date.now() - ms) : 0);
    return rows;
  };
  const relayLimits = {
    batchSize: config.limits.relayBatchSize,
    idleMs: config.limits.relayIdleMs,
    maxBackoffMs: config.limits.relayMaxBackoffMs,
  };
  const output = new Relay<AppliedTransition>({
    kind: 'output',
    partition,
    read: async (limit) => lag('output', await owned.readOutbox(partition, limit)),
    ack: (ids) => owned.ackOutbox(partition, ids),
    publish: async (rows) => {
      await claimed();
      await publishRows({
        producer: context.producer(),
        topic: config.topics.output,
        rows,
        full: (row) => outputMessage(row.value),
        reduced: (row, reason) => outputMessage(row.value, reason),
        onRefused: (reason) =>
          log('warn', `the broker refused an output record (${reason}); sent without its payload`),
      });
    },
    ...relayLimits,
    metrics,
  });
  const deadLetters = new Relay<DeadLetter>({
    kind: 'dead-letter',
    partition,
    read: async (limit) => lag('dead-letter', await owned.readDeadLetters(partition, limit)),
    ack: (ids) => owned.ackDeadLetters(partition, ids),
    publish: async (rows) => {
      await claimed();
      await publishRows({
        producer: context.producer(),
        topic: config.topics.deadLetter,
        rows,
        full: (row) => deadLetterMessage(row),
        reduced: (row, reason) => deadLetterMessage(row, reason),
        onRefused: (reason) =>
          log('warn', `the broker refused a dead-letter record (${reason}); sent without the event`),
      });
    },
    ...relayLimits,
    metrics,
  });
  return { output: output as Relay<unknown>, deadLetters: deadLetters as Relay<unknown> };
}
