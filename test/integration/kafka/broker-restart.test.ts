/**
 * A broker restart while the gatekeeper is consuming and publishing loses nothing: the consumer
 * restarts from its committed offsets, the relays retry, and the output still holds exactly the
 * in-order transitions of every entity. Runs on a broker of its own (it is stopped and restarted).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoStream } from '../../../src/demo/stream.ts';
import { expectationFor, expectEverythingPublished } from './support/expected.ts';
import { committedTotal, eventMessage, produce, startOwnBroker, type Broker } from './support/kafka.ts';
import { setUp, waitFor, waitUntilCaughtUp, type TestSetup } from './support/runtime.ts';

let broker: Broker | undefined;
let setup: TestSetup | undefined;

beforeAll(async () => {
  broker = await startOwnBroker();
}, 600_000);
afterAll(async () => {
  try {
    await setup?.cleanup();
  } finally {
    await broker?.stop();
  }
}, 120_000);

it('loses nothing when the broker stops and starts again during processing', async () => {
  const own = broker as Broker;
  const stream = demoStream({
    entities: 1_000,
    seed: 23,
    duplicateRate: 0.15,
    illegalRate: 0.05,
    garbageRate: 0.005,
  });
  const expected = await expectationFor(stream);
  setup = await setUp(own.brokers, 'broker-restart', 3);
  await produce(setup.brokers, setup.input, stream.inputs.map(eventMessage));
  const total = stream.inputs.length;

  // Small fetches so processing spans the restart.
  /** Warnings, errors and retries the runtime reported: proof the outage reached it. */
  const retries: string[] = [];
  const running = await setup.start(
    {
      limits: {
        sessionTimeoutMs: 10_000,
        heartbeatIntervalMs: 1_000,
        relayIdleMs: 50,
        maxBytesPerPartition: 4_096,
        relayBatchSize: 50,
      },
    },
    {
      metrics: { retry: (where) => retries.push(where) },
      logger: (level, message) => {
        if (level !== 'info') retries.push(message);
      },
    },
  );
  await waitFor(
    'a fifth of the input committed',
    async () => (await committedTotal(own.brokers, setup!.group, setup!.input)) >= total / 5,
  );
  const committedBeforeStop = await committedTotal(own.brokers, setup.group, setup.input);
  await own.stop({ keep: true });
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  await own.restart();
  await waitUntilCaughtUp(setup, total, 120_000);
  await running.stop();
  await running.done;

  expect(committedBeforeStop, 'the broker stopped before processing finished').toBeLessThan(total);
  expect(retries.length, 'the runtime noticed the outage').toBeGreaterThan(0);
  await expectEverythingPublished(setup, expected);
}, 240_000);
