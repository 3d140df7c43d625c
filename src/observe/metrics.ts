/**
 * Prometheus metrics for one gatekeeper process, in their own prom-client Registry (never the
 * global one, so two gatekeepers in a process or a test never share counters). Decisions are
 * counted from the gatekeeper's listener; stalled, parked and resident entities are read from it on
 * each scrape; the Kafka runtime reports lag, batches, relay backlog and retries through `kafka`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { bufferChange, type InputSource, type Outcome } from '../core/outcome.ts';
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { registerEffectMetrics } from './effect-metrics.ts';

export interface MetricsOptions {
  /** Prefix of every metric name (default "gatekeeper_"). */
  prefix?: string;
  /** Also export prom-client's process metrics (CPU, memory, event loop lag) (default true). */
  defaultMetrics?: boolean;
  /** Most stalled / parked entities read per scrape (default 10,000); the gauges saturate there. */
  scrapeLimit?: number;
  /** Decision latency buckets, in seconds. */
  latencyBuckets?: number[];
}

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

/** What a running gatekeeper process exposes. */
export interface GatekeeperMetrics {
  readonly registry: Registry;
  /** Starts counting `gatekeeper`'s decisions and reading its stalled/parked/resident entities (once). */
  attach(gatekeeper: Gatekeeper): void;
  /** A gatekeeper whose `handle` and `rejectUnparseable` are timed into the latency histogram. */
  instrument(gatekeeper: Gatekeeper): Gatekeeper;
  /** For the Kafka runtime: `runGatekeeper(config, { metrics: metrics.kafka })`. */
  readonly kafka: KafkaMetricsHooks;
  /** Kafka consumer lag (high watermark − next offset to process) of one partition. */
  setConsumerLag(topic: string, partition: number, lag: number): void;
  /** Rows committed but not yet published by a relay (`output` is the outbox of applied transitions). */
  setOutboxBacklog(rows: number, queue?: 'output' | 'dead-letter'): void;
  /** Stops listening to the gatekeeper. */
  close(): void;
}

const NO_AGGREGATE = 'none';

/** The metric names (with the default prefix), as documented in docs/observability.md. */
export const METRIC_NAMES = {
  decisions: 'gatekeeper_decisions_total',
  latency: 'gatekeeper_decision_duration_seconds',
  buffered: 'gatekeeper_buffered_events',
  stalled: 'gatekeeper_stalled_entities',
  parked: 'gatekeeper_parked_entities',
  attention: 'gatekeeper_attention_entities',
  held: 'gatekeeper_held_total',
  resident: 'gatekeeper_resident_entities',
  consumerLag: 'gatekeeper_kafka_consumer_lag',
  batchDuration: 'gatekeeper_kafka_batch_duration_seconds',
  records: 'gatekeeper_kafka_records_total',
  outboxBacklog: 'gatekeeper_outbox_backlog',
  published: 'gatekeeper_relay_published_total',
  retries: 'gatekeeper_retries_total',
  ownedPartition: 'gatekeeper_kafka_owned_partition',
  partitionBacklog: 'gatekeeper_partition_backlog',
  publishLag: 'gatekeeper_partition_publish_lag_seconds',
  scrapeErrors: 'gatekeeper_metrics_scrape_errors_total',
} as const;

/** Metrics for `gatekeeper`, or for one attached later (the Kafka runtime creates its gatekeeper itself). */
export function createMetrics(gatekeeper?: Gatekeeper, options: MetricsOptions = {}): GatekeeperMetrics {
  const prefix = options.prefix ?? 'gatekeeper_';
  const name = (metric: string) => `${prefix}${metric.slice('gatekeeper_'.length)}`;
  const limit = options.scrapeLimit ?? 10_000;
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  let target: Gatekeeper | undefined;
  let unsubscribe: (() => void) | undefined;

  const decisions = new Counter({
    name: name(METRIC_NAMES.decisions),
    help: 'Decisions by aggregate, outcome (applied, buffered, discarded, rejected) and reason.',
    labelNames: ['aggregate', 'outcome', 'reason'] as const,
    registers,
  });
  const latency = new Histogram({
    name: name(METRIC_NAMES.latency),
    help: 'Time from handing an event to the gatekeeper until its decision (and drain) is committed.',
    labelNames: ['aggregate'] as const,
    buckets: options.latencyBuckets ?? [
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ],
    registers,
  });
  const buffered = new Gauge({
    name: name(METRIC_NAMES.buffered),
    help: 'Events waiting in entity buffers, as counted by this process (buffered minus drained).',
    labelNames: ['aggregate'] as const,
    registers,
  });
  const scrapeErrors = new Counter({
    name: name(METRIC_NAMES.scrapeErrors),
    help: 'Scrapes where reading stalled or parked entities from the store failed (the last value is kept).',
    registers,
  });
  /** A gauge of entities per aggregate, read from the store on every scrape. */
  const entitiesPerAggregate = (
    metric: string,
    help: string,
    read: (source: Gatekeeper) => Promise<readonly { aggregate: string }[]>,
  ) =>
    new Gauge({
      name: name(metric),
      help,
      labelNames: ['aggregate'] as const,
      registers,
      async collect() {
        if (!target) return;
        try {
          const counts = new Map<string, number>(
            [...target.aggregates.keys()].map((aggregate) => [aggregate, 0]),
          );
          for (const ref of await read(target))
            counts.set(ref.aggregate, (counts.get(ref.aggregate) ?? 0) + 1);
          for (const [aggregate, count] of counts) this.set({ aggregate }, count);
        } catch {
          scrapeErrors.inc();
        }
      },
    });
  entitiesPerAggregate(
    METRIC_NAMES.stalled,
    `Entities whose oldest buffered event is older than their aggregate's stall limit (read per scrape, at most ${limit}).`,
    (source) => source.stalled(limit),
  );
  entitiesPerAggregate(
    METRIC_NAMES.parked,
    `Entities stopped on a parked event, waiting for an operator (read per scrape, at most ${limit}).`,
    (source) => source.parked(limit),
  );
  new Gauge({
    name: name(METRIC_NAMES.attention),
    help: `Entities waiting for an operator, by aggregate and reason: parked-on-rejection, or held (incompatible-snapshot, newer-version, migration-threw, migration-invalid, corrupt-snapshot, corrupt-entity, aggregate-not-registered), or effect-failed; read per scrape, at most ${limit}.`,
    labelNames: ['aggregate', 'reason'] as const,
    registers,
    async collect() {
      if (!target) return;
      try {
        const entries = await target.attention(limit);
        this.reset();
        const counts = new Map<string, { aggregate: string; reason: string; count: number }>();
        for (const entry of entries) {
          const id = `${entry.aggregate}\u0000${entry.reason}`;
          const row = counts.get(id) ?? { aggregate: entry.aggregate, reason: entry.reason, count: 0 };
          row.count += 1;
          counts.set(id, row);
        }
        for (const row of counts.values())
          this.set({ aggregate: row.aggregate, reason: row.reason }, row.count);
      } catch {
        scrapeErrors.inc();
      }
    },
  });
  registerEffectMetrics(
    registers,
    name,
    () => target,
    limit,
    () => scrapeErrors.inc(),
  );
  const held = new Counter({
    name: name(METRIC_NAMES.held),
    help: 'Entities this process held (its snapshot could not be decided here: another machine version, corrupt bytes, a failed migration, an aggregate only another member knows), by aggregate and reason.',
    labelNames: ['aggregate', 'reason'] as const,
    registers,
  });
  new Gauge({
    name: name(METRIC_NAMES.resident),
    help: 'Entities with a live actor in this process.',
    registers,
    collect() {
      if (target) this.set(target.residentCount());
    },
  });
  const consumerLag = new Gauge({
    name: name(METRIC_NAMES.consumerLag),
    help: 'Kafka consumer lag per partition (high watermark minus the next offset to process).',
    labelNames: ['topic', 'partition'] as const,
    registers,
  });
  const batchDuration = new Histogram({
    name: name(METRIC_NAMES.batchDuration),
    help: 'Time to decide one Kafka input batch.',
    labelNames: ['topic'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const records = new Counter({
    name: name(METRIC_NAMES.records),
    help: 'Kafka input records decided.',
    labelNames: ['topic'] as const,
    registers,
  });
  const outboxBacklog = new Gauge({
    name: name(METRIC_NAMES.outboxBacklog),
    help: 'Rows committed but not yet published by a relay: queue="output" (applied transitions) or "dead-letter"; a relay reads a bounded batch, so its batch size means "at least".',
    labelNames: ['queue'] as const,
    registers,
  });
  const published = new Counter({
    name: name(METRIC_NAMES.published),
    help: 'Records the relays published to Kafka, by queue.',
    labelNames: ['queue'] as const,
    registers,
  });
  const retries = new Counter({
    name: name(METRIC_NAMES.retries),
    help: 'Failures the runtime recovered from by retrying (store unreachable, broker down), by where.',
    labelNames: ['where'] as const,
    registers,
  });

  const ownedPartition = new Gauge({
    name: name(METRIC_NAMES.ownedPartition),
    help: 'With a shared Redis store: 1 for each input partition this member owns (decides, publishes and sweeps); partitions it lost are removed.',
    labelNames: ['partition'] as const,
    registers,
  });
  const partitionBacklog = new Gauge({
    name: name(METRIC_NAMES.partitionBacklog),
    help: 'Rows of one owned input partition committed but not yet published, by queue ("output" or "dead-letter"), as its relay last read them (at most the relay batch size).',
    labelNames: ['queue', 'partition'] as const,
    registers,
  });
  const publishLag = new Gauge({
    name: name(METRIC_NAMES.publishLag),
    help: 'How long the oldest unpublished row of one owned input partition has waited, by queue (0 when none waits).',
    labelNames: ['queue', 'partition'] as const,
    registers,
  });
  let owned: readonly number[] = [];

  const labelOf = (outcome: Outcome) =>
    outcome.aggregate !== null && target?.aggregates.has(outcome.aggregate)
      ? outcome.aggregate
      : NO_AGGREGATE;
  const attach = (source: Gatekeeper) => {
    if (target === source) return;
    if (target) throw new Error('createMetrics: already attached to another gatekeeper');
    target = source;
    unsubscribe = source.subscribe({
      onOutcome(outcome) {
        const aggregate = labelOf(outcome);
        decisions.inc({ aggregate, outcome: outcome.outcome, reason: outcome.reason });
        const change = bufferChange(outcome);
        if (change !== 0) buffered.inc({ aggregate }, change);
      },
      onHeld(entry) {
        held.inc({ aggregate: entry.aggregate, reason: entry.reason });
      },
    });
  };
  if (gatekeeper) attach(gatekeeper);

  const timed = <TArgs extends unknown[]>(
    call: (...args: TArgs) => ReturnType<Gatekeeper['handle']>,
  ): ((...args: TArgs) => ReturnType<Gatekeeper['handle']>) => {
    return async (...args) => {
      const started = process.hrtime.bigint();
      const result = await call(...args);
      latency.observe(
        { aggregate: labelOf(result.outcome) },
        Number(process.hrtime.bigint() - started) / 1e9,
      );
      return result;
    };
  };

  const setConsumerLag = (topic: string, partition: number, lag: number) =>
    consumerLag.set({ topic, partition: String(partition) }, lag);
  const setOutboxBacklog = (rows: number, queue: 'output' | 'dead-letter' = 'output') =>
    outboxBacklog.set({ queue }, rows);

  return {
    registry,
    attach,
    instrument(source) {
      attach(source);
      const handle = timed((input: unknown, from?: InputSource) => source.handle(input, from));
      const rejectUnparseable = timed((raw: unknown, detail: string, from?: InputSource) =>
        source.rejectUnparseable(raw, detail, from),
      );
      // Each input is timed on its own, so a batch gives the same latency samples as single calls.
      const handleBatch: Gatekeeper['handleBatch'] = async (inputs, onResult) => {
        const settled = await Promise.allSettled(
          inputs.map(async (input, index) => onResult?.(await handle(input), index)),
        );
        const failed = settled.find((outcome) => outcome.status === 'rejected');
        if (failed) throw failed.reason;
      };
      return new Proxy(source, {
        get(object, property, receiver) {
          if (property === 'handle') return handle;
          if (property === 'handleBatch') return handleBatch;
          if (property === 'rejectUnparseable') return rejectUnparseable;
          const value: unknown = Reflect.get(object, property, receiver);
          return typeof value === 'function'
            ? (value as (...args: unknown[]) => unknown).bind(object)
            : value;
        },
      });
    },
    kafka: {
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
    close() {
      unsubscribe?.();
    },
  };
}
