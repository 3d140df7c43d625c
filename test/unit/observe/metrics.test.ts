import { afterEach, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { ManualClock } from '../../../src/core/clock.ts';
import { createGatekeeperWithStore, type Gatekeeper } from '../../../src/gatekeeper/gatekeeper.ts';
import { createMetrics, type GatekeeperMetrics } from '../../../src/observe/metrics.ts';
import { startMetricsServer, type MetricsServer } from '../../../src/observe/metrics-server.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import type { KafkaRuntimeMetrics } from '../../../src/kafka/metrics.ts';

const cleanup: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const step of cleanup.splice(0).reverse()) await step();
});

async function setUp(): Promise<{
  gatekeeper: Gatekeeper;
  metrics: GatekeeperMetrics;
  server: MetricsServer;
  clock: ManualClock;
}> {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const raw = createGatekeeperWithStore({
    machines,
    store: memoryStore(),
    sweepIntervalMs: 0,
    clock,
    defaults: { stallAfterMs: 60_000 },
  });
  const metrics = createMetrics(raw, { defaultMetrics: false });
  const server = await startMetricsServer({ registry: metrics.registry, port: 0 });
  cleanup.push(
    () => raw.close(),
    () => metrics.close(),
    () => server.close(),
  );
  return { gatekeeper: metrics.instrument(raw), metrics, server, clock };
}

async function scrape(server: MetricsServer): Promise<string> {
  const response = await fetch(server.url);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toContain('text/plain');
  return response.text();
}

/** The value of one sample line, e.g. value(text, 'gatekeeper_decisions_total{aggregate="order",…}'). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((candidate) => candidate.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const order = (seq: number, type: string, payload: Record<string, unknown> = {}) => ({
  id: `o1-${seq}-${type}`,
  aggregate: 'order',
  key: 'o1',
  seq,
  type,
  payload,
});

describe('/metrics', () => {
  it('serves the Kafka runtime’s hooks, with the gatekeeper attached after it was created', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    // What `runGatekeeper(config, { metrics: metrics.kafka })` receives: checked against the runtime's own type.
    const hooks: KafkaRuntimeMetrics = metrics.kafka;
    hooks.lag?.('events', 0, 12);
    hooks.batch?.('events', 0, 500, 40);
    hooks.backlog?.('dead-letter', 3);
    hooks.published?.('output', 498);
    hooks.retry?.('consumer', new Error('broker down'));
    const gatekeeper = createGatekeeperWithStore({ machines, store: memoryStore(), sweepIntervalMs: 0 });
    metrics.attach(gatekeeper);
    const server = await startMetricsServer({ registry: metrics.registry, port: 0 });
    cleanup.push(
      () => gatekeeper.close(),
      () => metrics.close(),
      () => server.close(),
    );
    await gatekeeper.handle(order(1, 'order.placed', { total: 3 }));
    const text = await scrape(server);
    expect(value(text, 'gatekeeper_kafka_consumer_lag{topic="events",partition="0"}')).toBe(12);
    expect(value(text, 'gatekeeper_kafka_batch_duration_seconds_count{topic="events"}')).toBe(1);
    expect(value(text, 'gatekeeper_kafka_records_total{topic="events"}')).toBe(500);
    expect(value(text, 'gatekeeper_outbox_backlog{queue="dead-letter"}')).toBe(3);
    expect(value(text, 'gatekeeper_relay_published_total{queue="output"}')).toBe(498);
    expect(value(text, 'gatekeeper_retries_total{where="consumer"}')).toBe(1);
    expect(
      value(text, 'gatekeeper_decisions_total{aggregate="order",outcome="applied",reason="legal"}'),
    ).toBe(1);
    expect(value(text, 'gatekeeper_resident_entities')).toBe(1);
  });

  it('names the partitions a member owns, with each one’s backlog and publish lag, and drops the partitions it lost', async () => {
    const metrics = createMetrics(undefined, { defaultMetrics: false });
    const hooks: KafkaRuntimeMetrics = metrics.kafka;
    hooks.ownedPartitions?.([0, 2, 4]);
    hooks.partitionBacklog?.('output', 2, 40);
    hooks.partitionBacklog?.('dead-letter', 4, 1);
    hooks.publishLag?.('output', 2, 1_500);
    hooks.partitionBacklog?.('output', 0, 7);
    hooks.ownedPartitions?.([2, 4, 5]);
    const server = await startMetricsServer({ registry: metrics.registry, port: 0 });
    cleanup.push(
      () => metrics.close(),
      () => server.close(),
    );
    const text = await scrape(server);
    expect(value(text, 'gatekeeper_kafka_owned_partition{partition="2"}')).toBe(1);
    expect(value(text, 'gatekeeper_kafka_owned_partition{partition="5"}')).toBe(1);
    expect(value(text, 'gatekeeper_kafka_owned_partition{partition="0"}')).toBeUndefined();
    expect(value(text, 'gatekeeper_partition_backlog{queue="output",partition="2"}')).toBe(40);
    expect(value(text, 'gatekeeper_partition_backlog{queue="dead-letter",partition="4"}')).toBe(1);
    expect(value(text, 'gatekeeper_partition_backlog{queue="output",partition="0"}')).toBeUndefined();
    expect(value(text, 'gatekeeper_partition_publish_lag_seconds{queue="output",partition="2"}')).toBe(1.5);
  });

  it('counts decisions by aggregate, outcome and reason as events are handled', async () => {
    const { gatekeeper, server } = await setUp();
    const before = await scrape(server);
    expect(
      value(before, 'gatekeeper_decisions_total{aggregate="order",outcome="applied",reason="legal"}'),
    ).toBeUndefined();

    await gatekeeper.handle(order(2, 'order.paid', { amount: 10 })); // seq gap: buffered
    let text = await scrape(server);
    expect(
      value(text, 'gatekeeper_decisions_total{aggregate="order",outcome="buffered",reason="seq-gap"}'),
    ).toBe(1);
    expect(value(text, 'gatekeeper_buffered_events{aggregate="order"}')).toBe(1);

    await gatekeeper.handle(order(1, 'order.placed', { total: 10 })); // applied, then drains seq 2
    await gatekeeper.handle(order(1, 'order.placed', { total: 10 })); // a late duplicate: behind the sequence
    await gatekeeper.handle({ nonsense: true }); // invalid envelope
    text = await scrape(server);
    expect(
      value(text, 'gatekeeper_decisions_total{aggregate="order",outcome="applied",reason="legal"}'),
    ).toBe(1);
    expect(
      value(text, 'gatekeeper_decisions_total{aggregate="order",outcome="applied",reason="drained"}'),
    ).toBe(1);
    expect(
      value(text, 'gatekeeper_decisions_total{aggregate="order",outcome="discarded",reason="stale-seq"}'),
    ).toBe(1);
    expect(
      value(
        text,
        'gatekeeper_decisions_total{aggregate="none",outcome="rejected",reason="invalid-envelope"}',
      ),
    ).toBe(1);
    expect(value(text, 'gatekeeper_buffered_events{aggregate="order"}')).toBe(0);
    expect(value(text, 'gatekeeper_decision_duration_seconds_count{aggregate="order"}')).toBe(3);
    expect(value(text, 'gatekeeper_decision_duration_seconds_count{aggregate="none"}')).toBe(1);
    expect(value(text, 'gatekeeper_resident_entities')).toBe(1);
  });

  it('reads stalled and parked entities from the gatekeeper on each scrape', async () => {
    const { gatekeeper, server, clock } = await setUp();
    await gatekeeper.handle(order(3, 'order.shipped'));
    // A customer parks on a bad event (its aggregate's policy is "park").
    await gatekeeper.handle({
      id: 'c1-1',
      aggregate: 'customer',
      key: 'c1',
      seq: 1,
      type: 'customer.activated',
      payload: {},
    });
    let text = await scrape(server);
    expect(value(text, 'gatekeeper_stalled_entities{aggregate="order"}')).toBe(0);
    expect(value(text, 'gatekeeper_parked_entities{aggregate="customer"}')).toBe(1);
    clock.advance(61_000);
    text = await scrape(server);
    expect(value(text, 'gatekeeper_stalled_entities{aggregate="order"}')).toBe(1);
  });

  it('exposes the Kafka runtime hooks and answers /healthz and 404', async () => {
    const { metrics, server } = await setUp();
    metrics.setConsumerLag('events', 3, 42);
    metrics.setOutboxBacklog(7);
    const text = await scrape(server);
    expect(value(text, 'gatekeeper_kafka_consumer_lag{topic="events",partition="3"}')).toBe(42);
    expect(value(text, 'gatekeeper_outbox_backlog{queue="output"}')).toBe(7);
    expect((await fetch(server.url.replace('/metrics', '/healthz'))).status).toBe(200);
    expect((await fetch(server.url.replace('/metrics', '/nope'))).status).toBe(404);
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  });
});
