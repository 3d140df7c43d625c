/**
 * Prometheus metrics for one gatekeeper, in their own prom-client Registry (never the global one,
 * so two gatekeepers in a process or a test never share counters). Decisions are counted from the
 * gatekeeper's listener; stalled, parked and resident entities are read from it on each scrape.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Outcome } from '../core/outcome.ts';
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';

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

/** What a running gatekeeper process exposes; the Kafka runtime feeds lag and backlog. */
export interface GatekeeperMetrics {
  readonly registry: Registry;
  /** A gatekeeper whose `handle` and `rejectUnparseable` are timed into the latency histogram. */
  instrument(gatekeeper: Gatekeeper): Gatekeeper;
  /** Kafka consumer lag (high watermark − committed offset) of one partition. */
  setConsumerLag(topic: string, partition: number, lag: number): void;
  /** Applied transitions written but not yet published by the outbox relay. */
  setOutboxBacklog(rows: number): void;
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
  resident: 'gatekeeper_resident_entities',
  consumerLag: 'gatekeeper_kafka_consumer_lag',
  outboxBacklog: 'gatekeeper_outbox_backlog',
  scrapeErrors: 'gatekeeper_metrics_scrape_errors_total',
} as const;

export function createMetrics(gatekeeper: Gatekeeper, options: MetricsOptions = {}): GatekeeperMetrics {
  const prefix = options.prefix ?? 'gatekeeper_';
  const name = (metric: string) => `${prefix}${metric.slice('gatekeeper_'.length)}`;
  const limit = options.scrapeLimit ?? 10_000;
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const aggregates = [...gatekeeper.aggregates.keys()];

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
  const countByAggregate = (gauge: Gauge<'aggregate'>, refs: readonly { aggregate: string }[]) => {
    const counts = new Map<string, number>(aggregates.map((aggregate) => [aggregate, 0]));
    for (const ref of refs) counts.set(ref.aggregate, (counts.get(ref.aggregate) ?? 0) + 1);
    for (const [aggregate, count] of counts) gauge.set({ aggregate }, count);
  };
  new Gauge({
    name: name(METRIC_NAMES.stalled),
    help: `Entities whose oldest buffered event is older than their aggregate's stall limit (read per scrape, at most ${limit}).`,
    labelNames: ['aggregate'] as const,
    registers,
    async collect() {
      try {
        countByAggregate(this, await gatekeeper.stalled(limit));
      } catch {
        scrapeErrors.inc();
      }
    },
  });
  new Gauge({
    name: name(METRIC_NAMES.parked),
    help: `Entities stopped on a parked event, waiting for an operator (read per scrape, at most ${limit}).`,
    labelNames: ['aggregate'] as const,
    registers,
    async collect() {
      try {
        countByAggregate(this, await gatekeeper.parked(limit));
      } catch {
        scrapeErrors.inc();
      }
    },
  });
  new Gauge({
    name: name(METRIC_NAMES.resident),
    help: 'Entities with a live actor in this process.',
    registers,
    collect() {
      this.set(gatekeeper.residentCount());
    },
  });
  const consumerLag = new Gauge({
    name: name(METRIC_NAMES.consumerLag),
    help: 'Kafka consumer lag per partition (high watermark minus committed offset).',
    labelNames: ['topic', 'partition'] as const,
    registers,
  });
  const outboxBacklog = new Gauge({
    name: name(METRIC_NAMES.outboxBacklog),
    help: 'Applied transitions committed but not yet published by the outbox relay.',
    registers,
  });

  const labelOf = (outcome: Outcome) =>
    outcome.aggregate !== null && gatekeeper.aggregates.has(outcome.aggregate)
      ? outcome.aggregate
      : NO_AGGREGATE;
  const unsubscribe = gatekeeper.subscribe({
    onOutcome(outcome) {
      const aggregate = labelOf(outcome);
      decisions.inc({ aggregate, outcome: outcome.outcome, reason: outcome.reason });
      if (outcome.outcome === 'buffered' && !outcome.fromBuffer) buffered.inc({ aggregate });
      else if (outcome.outcome !== 'buffered' && outcome.fromBuffer) buffered.dec({ aggregate });
    },
  });

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

  return {
    registry,
    instrument(target) {
      const handle = timed((input: unknown) => target.handle(input));
      const rejectUnparseable = timed((raw: unknown, detail: string) =>
        target.rejectUnparseable(raw, detail),
      );
      return new Proxy(target, {
        get(object, property, receiver) {
          if (property === 'handle') return handle;
          if (property === 'rejectUnparseable') return rejectUnparseable;
          const value: unknown = Reflect.get(object, property, receiver);
          return typeof value === 'function'
            ? (value as (...args: unknown[]) => unknown).bind(object)
            : value;
        },
      });
    },
    setConsumerLag(topic, partition, lag) {
      consumerLag.set({ topic, partition: String(partition) }, lag);
    },
    setOutboxBacklog(rows) {
      outboxBacklog.set(rows);
    },
    close() {
      unsubscribe();
    },
  };
}
