/**
 * End to end through the real CLI: a shuffled, duplicated stream with illegal events and garbage
 * for 1,500 entities, two `gatekeeper run` processes in one consumer group on a real broker and
 * Redis, one SIGKILLed mid-way (forcing a rebalance) and started again. Afterwards the output topic
 * holds, per entity, exactly the in-order legal transitions once copies with the same identity are
 * dropped, and the dead-letter topic holds every rejected event with its reason.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoStream } from '../../src/demo/stream.ts';
import { checkDeadLetters, checkOutput, expectationFor } from '../integration/kafka/support/expected.ts';
import {
  committedTotal,
  eventMessage,
  produce,
  readTopic,
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

beforeAll(async () => {
  broker = await sharedBroker();
}, 600_000);
afterAll(async () => {
  for (const process of processes) process.kill('SIGKILL');
  try {
    await setup?.cleanup();
  } finally {
    await broker.stop();
  }
}, 120_000);

it('two processes in one group, one SIGKILLed and restarted: every entity gets exactly its in-order transitions, every illegal event a dead letter', async () => {
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
  const configFile = writeConfig(
    setup.config({
      limits: { sessionTimeoutMs: 8_000, heartbeatIntervalMs: 1_000, relayIdleMs: 50, maxInFlight: 200 },
    }),
  );

  const a = startGatekeeper('a', configFile);
  const b = startGatekeeper('b', configFile);
  processes.push(a, b);
  await Promise.all([a.consuming, b.consuming]);

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
  a.kill('SIGKILL');
  const killedAt = await committedTotal(setup.brokers, setup.group, setup.input);
  expect((await a.exited).signal).toBe('SIGKILL');
  const again = startGatekeeper('a-again', configFile);
  processes.push(again);
  await again.consuming;
  await producing;

  await waitUntilCaughtUp(setup, total, 150_000);
  again.kill('SIGTERM');
  b.kill('SIGTERM');
  const [againExit, bExit] = await Promise.all([again.exited, b.exited]);
  expect(againExit.code, again.log()).toBe(0);
  expect(bExit.code, b.log()).toBe(0);

  const output = checkOutput(await readTopic(setup.brokers, setup.output), expected);
  const dead = checkDeadLetters(await readTopic(setup.brokers, setup.deadLetter), expected);
  console.log(
    `e2e: ${total} input records, killed at ${killedAt} committed; output ${output.records} records (${output.duplicates} duplicates), ` +
      `${expected.rejected.size} rejections + ${expected.garbage.size} garbage expected in the dead letters`,
  );
  expect(killedAt).toBeLessThan(total);
  expect(output.mismatches).toEqual([]);
  expect(output.mismatchCount).toBe(0);
  expect(output.malformed).toBe(0);
  expect(dead.missing).toEqual([]);
  expect(dead.garbageMissing).toEqual([]);
  expect(dead.inconsistent).toBe(0);
  expect(expected.rejected.size).toBeGreaterThan(20);
}, 240_000);
