/**
 * Prometheus metrics for one gatekeeper process, in their own prom-client Registry (never the
 * global one, so two gatekeepers in a process or a test never share counters). Decisions are
 * counted from the gatekeeper's listener; stalled, parked and resident entities are read from it on
 * each scrape (entity-gauges.ts); the Kafka runtime reports lag, batches, relay backlog and retries
 * through `kafka` (kafka-metrics.ts).
 */
import { collectDefaultMetrics, Registry } from 'prom-client';
import { bufferChange, type InputSource, type Outcome } from '../core/outcome.ts';
import type { Gatekeeper } from '../gatekeeper/gatekeeper.ts';
import { registerEffectMetrics } from './effect-metrics.ts';
import { registerEntityGauges } from './entity-gauges.ts';
import { kafkaMetrics, type KafkaMetricsHooks } from './kafka-metrics.ts';
import { METRIC_NAMES } from './metric-names.ts';
import { MetricScope } from './metric-scope.ts';

export { METRIC_NAMES } from './metric-names.ts';
export type { KafkaMetricsHooks } from './kafka-metrics.ts';

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

/** Metrics for `gatekeeper`, or for one attached later (the Kafka runtime creates its gatekeeper itself). */
export function createMetrics(gatekeeper?: Gatekeeper, options: MetricsOptions = {}): GatekeeperMetrics {
  const limit = options.scrapeLimit ?? 10_000;
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  const scope = new MetricScope(registry, options.prefix ?? 'gatekeeper_');
  let target: Gatekeeper | undefined;
  let unsubscribe: (() => void) | undefined;

  const decisions = scope.counter(METRIC_NAMES.decisions, {
    help: 'Decisions by aggregate, outcome (applied, buffered, discarded, rejected) and reason.',
    labelNames: ['aggregate', 'outcome', 'reason'] as const,
  });
  const latency = scope.histogram(METRIC_NAMES.latency, {
    help: 'Time from handing an event to the gatekeeper until its decision (and drain) is committed.',
    labelNames: ['aggregate'] as const,
    buckets: options.latencyBuckets ?? [
      0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
    ],
  });
  const buffered = scope.gauge(METRIC_NAMES.buffered, {
    help: 'Events waiting in entity buffers, as counted by this process (buffered minus drained).',
    labelNames: ['aggregate'] as const,
  });
  const scrapeErrors = scope.counter(METRIC_NAMES.scrapeErrors, {
    help: 'Scrapes where reading stalled or parked entities from the store failed (the last value is kept).',
  });
  const onScrapeError = () => scrapeErrors.inc();
  // Registered in this order (the order of the exposition text): decisions, the entity gauges,
  // effects, holds, resident entities, then the Kafka runtime's.
  registerEntityGauges(scope, () => target, limit, onScrapeError);
  registerEffectMetrics(scope, () => target, limit, onScrapeError);
  const held = scope.counter(METRIC_NAMES.held, {
    help: 'Entities this process held (its snapshot could not be decided here: another machine version, corrupt bytes, a failed migration, an aggregate only another member knows), by aggregate and reason.',
    labelNames: ['aggregate', 'reason'] as const,
  });
  scope.gauge(METRIC_NAMES.resident, {
    help: 'Entities with a live actor in this process.',
    collect() {
      if (target) this.set(target.residentCount());
    },
  });
  const kafka = kafkaMetrics(scope);

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
    kafka: kafka.hooks,
    setConsumerLag: kafka.setConsumerLag,
    setOutboxBacklog: kafka.setOutboxBacklog,
    close() {
      unsubscribe?.();
    },
  };
}
