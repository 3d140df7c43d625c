/**
 * An input topic deleted while the gatekeeper consumes it is named in the log (kafkajs itself
 * only says "This server does not host this topic-partition"), and stopping still works.
 */
import { expect, it } from 'vitest';
import { deleteTopics, eventMessage, produce } from './support/kafka.ts';
import { useSharedBroker, waitFor, waitUntilCaughtUp } from './support/runtime.ts';

const setUpTest = useSharedBroker();

it('names an input topic deleted while it is consumed, and still stops', async () => {
  const setup = await setUpTest('input-deleted', 1);
  const lines: string[] = [];
  const running = await setup.start({}, { logger: (level, message) => lines.push(`${level} ${message}`) });
  await produce(setup.brokers, setup.input, [
    eventMessage({
      id: 'a-1',
      aggregate: 'order',
      key: 'a',
      seq: 1,
      type: 'order.placed',
      payload: { total: 1, currency: 'EUR' },
    }),
  ]);
  await waitUntilCaughtUp(setup, 1);
  await deleteTopics(setup.brokers, [setup.input]);
  await waitFor(
    'a line naming the deleted topic',
    () =>
      Promise.resolve(lines.some((line) => line.includes(`input topic "${setup.input}" no longer exists`))),
    60_000,
  );
  const started = Date.now();
  await running.stop();
  expect(Date.now() - started).toBeLessThan(40_000);
}, 120_000);
