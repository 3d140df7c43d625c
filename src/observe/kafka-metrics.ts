/**
 * The Kafka runtime's metrics: consumer lag, batch durations and records decided, the relays'
 * backlog and published records, retries, and per owned partition its ownership, backlog and
 * publish lag. The runtime reports them through the hooks; nothing here reads on a scrape.
 */
import { METRIC_NAMES } from './metric-names.ts';
import type { MetricScope } from './metric-scope.ts';

/**
 * The hooks the Kafka runtime calls (`RunOptions.metrics` of src/kafka/runner.ts). Structurally the
 * runtime's KafkaRuntimeMetrics minus `decision`: decisions are counted from the gatekeeper itself.
 */
export interface KafkaMetricsHooks {
  lag(topic: string, partition: number, lag: number): void;
  batch(topic: string, partition: number, records: number, ms: number): void;
  backlog(kind: 'output' | 'dead-letter', rows: number): void;
  published(kind: 'output' | 'dead-letter', records: number, partition?: number): void;
  retry(where: string, error: unknown): void;
  ownedPartitions(partitions: readonly number[]): void;
  partitionBacklog(kind: 'output' | 'dead-letter', partition: number, rows: number): void;
  publishLag(kind: 'output' | 'dead-letter', partition: number, ms: number): void;
}

/** The Kafka runtime's metrics: its hooks, and the two setters GatekeeperMetrics also offers. */
export interface KafkaMetrics {
  readonly hooks: KafkaMetricsHooks;
  readonly setConsumerLag: (topic: string, partition: number, lag: number) => void;
  readonly setOutboxBacklog: (rows: number, queue?: 'output' | 'dead-letter') => void;
}

/** Registers the Kafka runtime's metrics in `scope`. */
export function kafkaMetrics(scope: MetricScope): KafkaMetrics {
  const consumerLag = scope.gauge(METRIC_NAMES.consumerLag, {
    help: 'Kafka consumer lag per partition (high watermark minus the next offset to process).',
    labelNames: ['topic', 'partition'] as const,
  });
  const batchDuration = scope.histogram(METRIC_NAMES.batchDuration, {
    help: 'Time to decide one Kafka input batch.',
    labelNames: ['topic'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
  });
  const records = scope.counter(METRIC_NAMES.records, {
    help: 'Kafka input records decided.',
    labelNames: ['topic'] as const,
  });
  const outboxBacklog = scope.gauge(METRIC_NAMES.outboxBacklog, {
    help: 'Rows committed but not yet published by a relay: queue="output" (applied transitions) or "dead-letter"; a relay reads a bounded batch, so its batch size means "at least".',
    labelNames: ['queue'] as const,
  });
  const published = scope.counter(METRIC_NAMES.published, {
    help: 'Records the relays published to Kafka, by queue.',
    labelNames: ['queue'] as const,
  });
  const retries = scope.counter(METRIC_NAMES.retries, {
    help: 'Failures the runtime recovered from by retrying (store unreachable, broker down), by where.',
    labelNames: ['where'] as const,
  });
  const ownedPartition = scope.gauge(METRIC_NAMES.ownedPartition, {
    help: 'With a shared Redis store: 1 for each input partition this member owns (decides, publishes and sweeps); partitions it lost are removed.',
    labelNames: ['partition'] as const,
  });
  const partitionBacklog = scope.gauge(METRIC_NAMES.partitionBacklog, {
    help: 'Rows of one owned input partition committed but not yet published, by queue ("output" or "dead-letter"), as its relay last read them (at most the relay batch size).',
    labelNames: ['queue', 'partition'] as const,
  });
  const publishLag = scope.gauge(METRIC_NAMES.publishLag, {
    help: 'How long the oldest unpublished row of one owned input partition has waited, by queue (0 when none waits).',
    labelNames: ['queue', 'partition'] as const,
  });
  let owned: readonly number[] = [];

  const setConsumerLag = (topic: string, partition: number, lag: number) =>
    consumerLag.set({ topic, partition: String(partition) }, lag);
  const setOutboxBacklog = (rows: number, queue: 'output' | 'dead-letter' = 'output') =>
    outboxBacklog.set({ queue }, rows);

  return {
    hooks: {
      lag: setConsumerLag,
      batch(topic, _partition, count, ms) {
        batchDuration.observe({ topic }, ms / 1000);
        records.inc({ topic }, count);
      },
      backlog: (kind, rows) => setOutboxBacklog(rows, kind),
      published: (kind, count) => published.inc({ queue: kind }, count),
      retry: (where) => retries.inc({ where }),
      ownedPartitions(partitions) {
        for (const partition of owned) {
          if (partitions.includes(partition)) continue;
          ownedPartition.remove({ partition: String(partition) });
          for (const queue of ['output', 'dead-letter'])
            for (const gauge of [partitionBacklog, publishLag])
              gauge.remove({ queue, partition: String(partition) });
        }
        for (const partition of partitions) ownedPartition.set({ partition: String(partition) }, 1);
        owned = [...partitions];
      },
      partitionBacklog: (kind, partition, rows) =>
        partitionBacklog.set({ queue: kind, partition: String(partition) }, rows),
      publishLag: (kind, partition, ms) =>
        publishLag.set({ queue: kind, partition: String(partition) }, ms / 1000),
    },
    setConsumerLag,
    setOutboxBacklog,
  };
}
