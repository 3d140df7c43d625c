/**
 * Exactly-once publishing of one owned partition's queue (its outbox, or its dead letters) for
 * `read_committed` consumers. A transactional producer whose `transactionalId` is derived from the
 * group, the queue and the input partition produces each relay round inside one transaction, and
 * in the same transaction commits how far it got: the stream id of the round's last row, encoded
 * as an offset of input partition p for a checkpoint group of its own (`sendOffsets`, as Kafka
 * Connect's exactly-once sources keep their source offsets, KIP-618). Then the rows are deleted
 * from Redis (fenced by the shard's claim).
 *
 * - A crash after the commit and before the delete: the next owner reads the checkpoint when it
 *   takes the partition and deletes the rows up to it without producing them again.
 * - A crash inside an open transaction: the next owner's producer (same transactionalId) aborts it
 *   when it starts, and the rows, still in Redis past the checkpoint, are produced again; a
 *   `read_committed` consumer never sees the aborted copies.
 * - A zombie (a member paused past its session timeout) is fenced by the broker: its next
 *   transactional call fails once its successor's producer has started.
 */
import type { Admin, Kafka, Message, Producer, Transaction } from 'kafkajs';
import type { QueuedItem } from '../store/entity-store.ts';
import { GatekeeperError } from '../core/errors.ts';
import { crashPoint } from './crash-points.ts';
import { refusedForGood } from './publish.ts';

export interface TransactionalQueue {
  /** `output` or `dead-letter`: part of the transactionalId and of the checkpoint group. */
  kind: string;
  partition: number;
  groupId: string;
  /** The topic records go to. */
  topic: string;
  /** The input topic whose partition `partition` carries the checkpoint offset. */
  checkpointTopic: string;
  /** Rows of the queue up to and including a stream id, oldest first (for recovery). */
  readUpTo(streamId: string, limit: number): Promise<QueuedItem<unknown>[]>;
  /** Deletes rows (fenced by the shard's claim). */
  ack(ids: readonly string[]): Promise<void>;
}

const SEND_CHUNK = 1_000;

/**
 * How far apart two reads of the checkpoint must agree before it counts (fenceAndReadCheckpoint),
 * and how many reads at most.
 */
const CHECKPOINT_SETTLE_MS = 250;
const CHECKPOINT_READS = 20;

/** The transactionalId of one queue of one input partition: a successor with the same id fences a zombie. */
export function transactionalIdOf(groupId: string, kind: string, partition: number): string {
  return `${groupId}.gatekeeper.${kind}.${partition}`;
}

/** The consumer group whose committed offsets are the queues' checkpoints (it has no members). */
export function checkpointGroupOf(groupId: string, kind: string): string {
  return `${groupId}.gatekeeper-${kind}-published`;
}

/** A stream id `ms-seq` as a Kafka offset (ms · 2^20 + seq; the inverse below). */
export function streamIdToOffset(streamId: string): string {
  const [ms, seq] = streamId.split('-');
  return (BigInt(ms ?? '0') * 1_048_576n + BigInt(seq ?? '0')).toString();
}

export function offsetToStreamId(offset: string): string | undefined {
  if (!/^\d+$/.test(offset)) return undefined;
  const value = BigInt(offset);
  return `${value / 1_048_576n}-${value % 1_048_576n}`;
}

/** The stream id inside a queued item id `<shard>/<stream id>`. */
function streamIdOf(id: string): string {
  return id.slice(id.indexOf('/') + 1);
}

export class TransactionalPublisher<TValue> {
  private producer: Producer | undefined;
  /**
   * The last stream id a transaction of this publisher committed (or the checkpoint it recovered):
   * rows up to it are published already. A round whose delete failed (Redis unreachable) reads
   * them again; they must only be deleted, never produced a second time.
   */
  private committed: bigint | undefined;
  /**
   * Set when a transaction failed after it may have reached the broker (a commit whose answer was
   * lost can still have committed): before producing again, the publisher fences its own earlier
   * producer and reads the checkpoint, so rows that did commit are never produced twice.
   */
  private uncertain = false;
  private closed = false;
  private admin: Admin | undefined;

  constructor(
    private readonly kafka: Kafka,
    private readonly queue: TransactionalQueue,
    private readonly messages: {
      full(row: QueuedItem<TValue>): Message;
      reduced(row: QueuedItem<TValue>, reason: string): Message;
    },
    private readonly onRefused: (reason: string) => void,
    /** Told when the checkpoint read right after fencing was not yet the final one (first, final). */
    private readonly onStaleCheckpoint: (first: string, final: string) => void = () => undefined,
  ) {}

  /** The stream id up to which this queue's rows are published (recovered or committed since). */
  get publishedUpTo(): string | undefined {
    return this.committed === undefined ? undefined : offsetToStreamId(this.committed.toString());
  }

  /**
   * Starts the producer (fencing any earlier producer of this partition's queue and aborting its
   * open transaction), then deletes the rows the last committed transaction already published.
   */
  async recover(admin: Admin): Promise<number> {
    this.admin = admin;
    const checkpoint = await this.fenceAndReadCheckpoint(admin);
    if (checkpoint === undefined) return 0;
    let removed = 0;
    for (;;) {
      const rows = await this.queue.readUpTo(checkpoint, 5_000);
      if (rows.length === 0) return removed;
      await this.queue.ack(rows.map((row) => row.id));
      removed += rows.length;
    }
  }

  /** Produces the rows and the checkpoint in one transaction; resolves once it committed. */
  async publish(all: readonly QueuedItem<TValue>[]): Promise<void> {
    if (this.uncertain && this.admin) await this.fenceAndReadCheckpoint(this.admin);
    const committed = this.committed;
    const rows =
      committed === undefined
        ? all
        : all.filter((row) => BigInt(streamIdToOffset(streamIdOf(row.id))) > committed);
    if (rows.length === 0) return;
    try {
      await this.inTransaction(rows, (row) => this.messages.full(row));
    } catch (error) {
      const reason = refusedForGood(error);
      if (reason === undefined) throw error;
      // One record can never be accepted: publish the rows one per transaction, the refused one
      // reduced (same key and identity, payload left out), so it does not stall the queue.
      for (const row of rows) {
        try {
          await this.inTransaction([row], (one) => this.messages.full(one));
        } catch (single) {
          const why = refusedForGood(single);
          if (why === undefined) throw single;
          this.onRefused(why);
          await this.inTransaction([row], (one) => this.messages.reduced(one, why));
        }
      }
    }
  }

  /**
   * Starts a new producer and reads the checkpoint. The producer's InitProducerId bumps the epoch
   * for this transactionalId (fencing the previous producer) and returns only once whatever
   * transaction that producer left open is completed, committed or aborted.
   *
   * The checkpoint is then read until two reads CHECKPOINT_SETTLE_MS apart agree: the broker
   * applies a committed transaction's offsets to the group only after it wrote the transaction's
   * markers, asynchronously, so a read right after the fence can still answer the offset from
   * before a transaction that had just committed (a commit in flight while the partition moved, or
   * whose answer was lost). KIP-447's OffsetFetch with `require_stable` waits for exactly that;
   * kafkajs cannot send it. A stale answer would publish the transaction's rows a second time.
   * Rows up to the checkpoint count as published from then on.
   */
  private async fenceAndReadCheckpoint(admin: Admin): Promise<string | undefined> {
    const producer = await this.connect();
    const fence = await producer.transaction();
    await fence.abort();
    const first = await this.checkpoint(admin);
    let checkpoint = first;
    for (let read = 1; read < CHECKPOINT_READS; read += 1) {
      await new Promise((resolve) => setTimeout(resolve, CHECKPOINT_SETTLE_MS));
      const again = await this.checkpoint(admin);
      if (again === checkpoint) break;
      checkpoint = again;
    }
    if (checkpoint !== first) this.onStaleCheckpoint(first ?? '(none)', checkpoint ?? '(none)');
    if (checkpoint !== undefined) {
      const recovered = BigInt(streamIdToOffset(checkpoint));
      if (this.committed === undefined || recovered > this.committed) this.committed = recovered;
    }
    this.uncertain = false;
    return checkpoint;
  }

  /**
   * For good: a closed publisher never starts another producer. Its relay was retired (the
   * partition moved, or was taken again by this member), but a round of it may still be running;
   * a new producer of that round would fence the successor's (same transactionalId) and publish
   * rows the successor publishes too, since both pass the claim check when this member took the
   * partition again.
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.dropProducer();
  }

  private async dropProducer(): Promise<void> {
    const producer = this.producer;
    this.producer = undefined;
    await producer?.disconnect().catch(() => undefined);
  }

  private async inTransaction(
    rows: readonly QueuedItem<TValue>[],
    message: (row: QueuedItem<TValue>) => Message,
  ): Promise<void> {
    const producer = this.producer ?? (await this.connect());
    let transaction: Transaction | undefined;
    try {
      transaction = await producer.transaction();
      for (let at = 0; at < rows.length; at += SEND_CHUNK) {
        await transaction.send({
          topic: this.queue.topic,
          acks: -1,
          messages: rows.slice(at, at + SEND_CHUNK).map(message),
        });
      }
      const last = rows.at(-1) as QueuedItem<TValue>;
      await transaction.sendOffsets({
        consumerGroupId: checkpointGroupOf(this.queue.groupId, this.queue.kind),
        topics: [
          {
            topic: this.queue.checkpointTopic,
            partitions: [{ partition: this.queue.partition, offset: streamIdToOffset(streamIdOf(last.id)) }],
          },
        ],
      });
      crashPoint('in-transaction');
      await transaction.commit();
      this.committed = BigInt(streamIdToOffset(streamIdOf(last.id)));
      crashPoint('after-transaction');
    } catch (error) {
      // Whether the broker committed is not known here (the answer to a commit can be lost).
      if (transaction !== undefined) this.uncertain = true;
      if (transaction?.isActive()) await transaction.abort().catch(() => undefined);
      // A fenced or broken producer cannot be used again; the next round starts a new one (the
      // relay checks its claim in Redis first, so a member that lost the partition never does).
      await this.dropProducer();
      throw error;
    }
  }

  private async connect(): Promise<Producer> {
    await this.dropProducer();
    if (this.closed) throw this.retired();
    const producer = this.kafka.producer({
      transactionalId: transactionalIdOf(this.queue.groupId, this.queue.kind, this.queue.partition),
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
    });
    await producer.connect();
    if (this.closed) {
      // Closed while connecting: this producer must not get to InitProducerId either.
      await producer.disconnect().catch(() => undefined);
      throw this.retired();
    }
    this.producer = producer;
    return producer;
  }

  private retired(): GatekeeperError {
    return new GatekeeperError(
      `the ${this.queue.kind} publisher of partition ${this.queue.partition} was retired; its successor publishes`,
      { code: 'PUBLISHER_RETIRED', retriable: true },
    );
  }

  private async checkpoint(admin: Admin): Promise<string | undefined> {
    const groups = await admin.fetchOffsets({
      groupId: checkpointGroupOf(this.queue.groupId, this.queue.kind),
      topics: [this.queue.checkpointTopic],
    });
    const offset = groups[0]?.partitions.find((entry) => entry.partition === this.queue.partition)?.offset;
    return offset === undefined || offset === '-1' ? undefined : offsetToStreamId(offset);
  }
}
