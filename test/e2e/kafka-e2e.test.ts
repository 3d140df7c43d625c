/**
 * End to end through the real CLI: a shuffled, duplicated stream with illegal events and garbage
 * for 1,500 entities, two `gatekeeper run` processes in one consumer group on a real broker and
 * Redis, one SIGKILLed mid-way (forcing a rebalance) and started again. Afterwards the output topic
 * holds, per entity, exactly the in-order legal transitions once copies with the same identity are
 * dropped, and the dead-letter topic holds every rejected event with its reason.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoStream } from '../../src/demo/stream.ts';
import { expectationFor, expectEverythingPublished } from '../integration/kafka/support/expected.ts';
import {
  committedTotal,
  eventMessage,
  produce,
  sharedBroker,
  type Broker,
} from '../integration/kafka/support/kafka.ts';
import {
  startGatekeeper,
  writeConfig,
  type GatekeeperProcess,
} from '../integration/kafka/support/processes.ts';
import { setUp, waitFor, waitUntilCaughtUp, type TestSetup } from '../integration/kafka/support/runtime.ts';

let broker: Broker;
let setup: TestSetup | undefined;
const processes: GatekeeperProcess[] = [];
let configFile: string | undefined;

beforeAll(async () => {
  broker = await sharedBroker();
}, 600_000);
afterAll(async () => {
  for (const process of processes) process.kill('SIGKILL');
  if (configFile) rmSync(dirname(configFile), { recursive: true, force: true });
  try {
    await setup?.cleanup();
  } finally {
    await broker.stop();
  }
}, 120_000);

/** Whether a process's latest word on the outbox is that it publishes it. */
function leads(process: GatekeeperProcess): boolean {
  const log = process.log();
  return (
    log.lastIndexOf('this process publishes the outbox') >
    log.lastIndexOf('another process publishes the outbox')
  );
}

it('two processes in one group, the publishing one SIGKILLed and restarted: every entity gets exactly its in-order transitions, every illegal event a dead letter', async () => {
  const stream = demoStream({
    entities: 1_500,
    seed: 11,
    duplicateRate: 0.15,
    illegalRate: 0.05,
    garbageRate: 0.005,
  });
  const expected = await expectationFor(stream);
  const messages = stream.inputs.map(eventMessage);
  setup = await setUp(broker.brokers, 'e2e', 6);
  configFile = writeConfig(
    setup.config({
      limits: { sessionTimeoutMs: 8_000, heartbeatIntervalMs: 1_000, relayIdleMs: 50, maxInFlight: 200 },
    }),
  );

  const a = startGatekeeper('a', configFile);
  const b = startGatekeeper('b', configFile);
  processes.push(a, b);
  await Promise.all([a.consuming, b.consuming]);
  // Kill the member that publishes the outbox (it holds partition 0), so the test also proves that
  // publishing moves to the other member after the rebalance.
  await waitFor('one member to publish the outbox', () => Promise.resolve([a, b].filter(leads).length === 1));
  const [victim, survivor] = leads(a) ? [a, b] : [b, a];

  // Produce in paced chunks so the kill lands while both processes are busy.
  const producing = (async () => {
    for (let at = 0; at < messages.length; at += 400) {
      await produce(setup.brokers, setup.input, messages.slice(at, at + 400));
      await new Promise((resolve) => setTimeout(resolve, 150));
    }
  })();
  const total = messages.length;
  await waitFor(
    'a third of the input committed',
    async () => (await committedTotal(setup!.brokers, setup!.group, setup!.input)) >= total / 3,
  );
  victim.kill('SIGKILL');
  const killedAt = await committedTotal(setup.brokers, setup.group, setup.input);
  expect((await victim.exited).signal).toBe('SIGKILL');
  const again = startGatekeeper(`${victim.name}-again`, configFile);
  processes.push(again);
  await again.consuming;
  await producing;

  await waitUntilCaughtUp(setup, total, 150_000);
  await waitFor('a member to publish the outbox again', () => Promise.resolve([again, survivor].some(leads)));
  again.kill('SIGTERM');
  survivor.kill('SIGTERM');
  const [againExit, survivorExit] = await Promise.all([again.exited, survivor.exited]);
  expect(againExit.code, again.log()).toBe(0);
  expect(survivorExit.code, survivor.log()).toBe(0);

  expect(killedAt).toBeLessThan(total);
  const { output, dead } = await expectEverythingPublished(setup, expected);
  console.log(
    `e2e: ${total} input records, ${victim.name} killed at ${killedAt} committed; output ${output.records} records (${output.duplicates} duplicates), ` +
      `${expected.rejected.size} rejections + ${expected.garbage.size} garbage expected in the dead letters`,
  );
  expect(output.malformed).toBe(0);
  expect(dead.inconsistent).toBe(0);
  expect(expected.rejected.size).toBeGreaterThan(20);
}, 240_000);
