/**
 * Metrics hooks of the Kafka runtime: a small interface the observability layer implements (for
 * instance with prom-client gauges and counters). Every hook is optional and must not throw; the
 * runtime calls them synchronously on its hot path, so they should only update numbers.
 */
import { bufferChange, type Outcome } from '../core/outcome.ts';

/** Which relay published or failed. */
export type RelayKind = 'output' | 'dead-letter';

export interface KafkaRuntimeMetrics {
  /** Every decision outcome (applied, buffered, discarded, rejected with its reason), drained ones included. */
  decision?(outcome: Outcome): void;
  /**
   * Events waiting in the buffers of one aggregate's entities, as this process counted them
   * (buffered minus drained, discarded or rejected from a buffer), each time it changes.
   */
  bufferDepth?(aggregate: string, depth: number): void;
  /**
   * Consumer lag of one partition after a batch: the partition's high watermark minus the next
   * offset to process (records not yet durably decided).
   */
  lag?(topic: string, partition: number, lag: number): void;
  /** One input batch finished: the records it handed to the gatekeeper and how long it took. */
  batch?(topic: string, partition: number, records: number, ms: number): void;
  /**
   * Rows waiting in the store's outbox or dead-letter queue as the relay last saw them. A relay
   * reads at most `relayBatchSize` rows, so a value equal to it means "at least this many".
   */
  backlog?(kind: RelayKind, rows: number): void;
  /**
   * With a shared Redis store (one shard per input partition): the input partitions this member
   * owns now, after each rebalance.
   */
  ownedPartitions?(partitions: readonly number[]): void;
  /** Rows waiting in one owned partition's outbox or dead-letter queue, as its relay last saw them. */
  partitionBacklog?(kind: RelayKind, partition: number, rows: number): void;
  /** How long the oldest unpublished row of an owned partition has waited (ms; 0 when none waits). */
  publishLag?(kind: RelayKind, partition: number, ms: number): void;
  /**
   * Records the relay produced (and then acknowledged in the store); with a shared Redis store,
   * the owned input partition whose rows they were.
   */
  published?(kind: RelayKind, records: number, partition?: number): void;
  /** A failure the runtime recovers from by retrying (store unreachable, broker down). */
  retry?(where: string, error: unknown): void;
}

/** Calls the hooks, swallowing what they throw: metrics must never stop processing. */
export class MetricsSink {
  private readonly depths = new Map<string, number>();
  /** Per queue, each owned partition's last seen backlog: the member's total is their sum. */
  private readonly partitionRows: Record<RelayKind, Map<number, number>> = {
    output: new Map(),
    'dead-letter': new Map(),
  };

  constructor(private readonly hooks: KafkaRuntimeMetrics = {}) {}

  decision(outcome: Outcome): void {
    if (this.hooks.decision) this.guard(() => this.hooks.decision?.(outcome));
    const change = bufferChange(outcome);
    if (change === 0 || outcome.aggregate === null || !this.hooks.bufferDepth) return;
    const depth = (this.depths.get(outcome.aggregate) ?? 0) + change;
    this.depths.set(outcome.aggregate, depth);
    this.guard(() => this.hooks.bufferDepth?.(outcome.aggregate as string, depth));
  }

  lag(topic: string, partition: number, lag: number): void {
    if (this.hooks.lag) this.guard(() => this.hooks.lag?.(topic, partition, lag));
  }

  batch(topic: string, partition: number, records: number, ms: number): void {
    if (this.hooks.batch) this.guard(() => this.hooks.batch?.(topic, partition, records, ms));
  }

  backlog(kind: RelayKind, rows: number): void {
    if (this.hooks.backlog) this.guard(() => this.hooks.backlog?.(kind, rows));
  }

  /** One partition relay's backlog: reported per partition and, summed over owned partitions, as the member's. */
  partitionBacklog(kind: RelayKind, partition: number, rows: number): void {
    const rowsByPartition = this.partitionRows[kind];
    rowsByPartition.set(partition, rows);
    if (this.hooks.partitionBacklog) this.guard(() => this.hooks.partitionBacklog?.(kind, partition, rows));
    let total = 0;
    for (const value of rowsByPartition.values()) total += value;
    this.backlog(kind, total);
  }

  publishLag(kind: RelayKind, partition: number, ms: number): void {
    if (this.hooks.publishLag) this.guard(() => this.hooks.publishLag?.(kind, partition, ms));
  }

  /** The partitions owned after a rebalance; the backlog of partitions no longer owned is dropped. */
  ownedPartitions(partitions: readonly number[]): void {
    for (const rowsByPartition of Object.values(this.partitionRows)) {
      for (const partition of [...rowsByPartition.keys()])
        if (!partitions.includes(partition)) rowsByPartition.delete(partition);
    }
    if (this.hooks.ownedPartitions) this.guard(() => this.hooks.ownedPartitions?.(partitions));
  }

  published(kind: RelayKind, records: number, partition?: number): void {
    if (this.hooks.published) this.guard(() => this.hooks.published?.(kind, records, partition));
  }

  retry(where: string, error: unknown): void {
    if (this.hooks.retry) this.guard(() => this.hooks.retry?.(where, error));
  }

  private guard(call: () => void): void {
    try {
      call();
    } catch {
      // A broken metrics hook is not a reason to stop gating events.
    }
  }
}
