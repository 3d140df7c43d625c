/**
 * What a member runs for each input partition it owns with a shared Redis store: the partition's
 * output and dead-letter relays, and the check that a record's key belongs on its partition.
 */
import type { Admin, Kafka, Producer } from 'kafkajs';
import { GatekeeperError } from '../core/errors.ts';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import type { QueuedItem } from '../store/entity-store.ts';
import type { OwnedShards } from '../store/redis/owned-shards.ts';
import type { PartitionRelays } from './partition-ownership.ts';
import { TransactionalPublisher, type TransactionalQueue } from './transactional-relay.ts';
import type { RunConfig } from './config.ts';
import type { MetricsSink } from './metrics.ts';
import { deadLetterMessage, outputMessage } from './output-records.ts';
import { partitionOfKey } from '../store/redis/partition-of-key.ts';
import { publishRows } from './publish.ts';
import { Relay } from './relay.ts';

/** How long an exactly-once relay woken by a decision waits for more rows before its transaction. */
const EXACTLY_ONCE_LINGER_MS = 50;

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
  /** Present for exactly-once delivery: transactional producers are made from it. */
  exactlyOnce?: { kafka: Kafka; admin: Admin };
}

/**
 * The relays of one owned partition: read its shard's rows, check the claim still stands, produce
 * (at-least-once: plain sends; exactly-once: one transaction per round with its checkpoint, see
 * transactional-relay.ts), delete (fenced by the claim in Redis, so a member that lost the
 * partition never deletes rows its successor must publish).
 */
export function partitionRelays(partition: number, context: PartitionRelayContext): PartitionRelays {
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
    // A transaction costs several round trips whatever it carries: let a round gather more rows.
    ...(context.exactlyOnce ? { lingerMs: EXACTLY_ONCE_LINGER_MS } : {}),
  };
  const refused = (what: string) => (reason: string) =>
    log('warn', `the broker refused ${what} (${reason}); sent without its payload`);
  const stale = (kind: string) => (first: string, final: string) =>
    log(
      'warn',
      `partition ${partition}: the ${kind} checkpoint read after fencing was ${first}, then ${final} once the broker had applied a just-committed transaction; the rows up to ${final} are not published again`,
      { partition },
    );

  const outputMessages = {
    full: (row: QueuedItem<AppliedTransition>) => outputMessage(row.value),
    reduced: (row: QueuedItem<AppliedTransition>, reason: string) => outputMessage(row.value, reason),
  };
  const deadMessages = {
    full: (row: QueuedItem<DeadLetter>) => deadLetterMessage(row),
    reduced: (row: QueuedItem<DeadLetter>, reason: string) => deadLetterMessage(row, reason),
  };
  const eos = context.exactlyOnce;
  // `topics.output: false`: no output relay (a transition handler is the only effect).
  const outputTopic = config.topics.output;
  const queue = (kind: 'output' | 'dead-letter', topic: string): TransactionalQueue => ({
    kind,
    partition,
    groupId: config.groupId,
    topic,
    checkpointTopic: config.topics.input[0] as string,
    readUpTo: (streamId, limit) => owned.readUpTo(partition, kind, streamId, limit),
    ack: (ids) =>
      kind === 'output' ? owned.ackOutbox(partition, ids) : owned.ackDeadLetters(partition, ids),
  });
  const outputTxn =
    eos &&
    outputTopic !== false &&
    new TransactionalPublisher(
      eos.kafka,
      queue('output', outputTopic),
      outputMessages,
      refused('an output record'),
      stale('output'),
    );
  const deadTxn =
    eos &&
    new TransactionalPublisher(
      eos.kafka,
      queue('dead-letter', config.topics.deadLetter),
      deadMessages,
      refused('a dead-letter record'),
      stale('dead-letter'),
    );

  const output =
    outputTopic === false
      ? undefined
      : new Relay<AppliedTransition>({
          kind: 'output',
          partition,
          read: async (limit) => lag('output', await owned.readOutbox(partition, limit)),
          ack: (ids) => owned.ackOutbox(partition, ids),
          publish: async (rows) => {
            await claimed();
            if (outputTxn) return outputTxn.publish(rows);
            await publishRows({
              producer: context.producer(),
              topic: outputTopic,
              rows,
              ...outputMessages,
              onRefused: refused('an output record'),
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
      if (deadTxn) return deadTxn.publish(rows);
      await publishRows({
        producer: context.producer(),
        topic: config.topics.deadLetter,
        rows,
        ...deadMessages,
        onRefused: refused('a dead-letter record'),
      });
    },
    ...relayLimits,
    metrics,
  });
  return {
    output: output,
    deadLetters: deadLetters,
    prepare: async () => {
      if (!eos || !deadTxn) return;
      const [fromOutput, fromDead] = await Promise.all([
        outputTxn ? outputTxn.recover(eos.admin) : 0,
        deadTxn.recover(eos.admin),
      ]);
      if (fromOutput + fromDead > 0)
        log(
          'info',
          `partition ${partition}: ${fromOutput} output and ${fromDead} dead-letter rows were already published by a committed transaction; deleted without publishing them again`,
        );
      log(
        'info',
        `partition ${partition}: published up to output ${outputTxn ? (outputTxn.publishedUpTo ?? 'nothing yet') : '(no output)'}, dead letters ${deadTxn.publishedUpTo ?? 'nothing yet'}`,
        { partition },
      );
    },
    close: async () => {
      await Promise.all([outputTxn ? outputTxn.close() : undefined, deadTxn?.close()]);
    },
  };
}
