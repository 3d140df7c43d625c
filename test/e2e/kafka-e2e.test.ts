/**
 * End to end through the real CLI: a shuffled, duplicated stream with illegal events and garbage
 * for 1,500 entities, two `gatekeeper run` processes in one consumer group on a real broker and
 * Redis, one SIGKILLed mid-way (forcing a rebalance) and started again. Afterwards the output topic
 * holds, per entity, exactly the in-order legal transitions once copies with the same identity are
 * dropped, and the dead-letter topic holds every rejected event with its reason.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { demoStream } from '../../src/demo/stream.ts';
import {
  expectationFor,
  expectEverythingPublished,
  expectExactlyOnce,
} from '../integration/kafka/support/expected.ts';
import {
  committedTotal,
  eventMessage,
  produce,
  sharedBroker,
  type Broker,
} from '../integration/kafka/support/kafka.ts';
import {
  ownedPartitions,
  startGatekeeper,
  writeConfig,
  type GatekeeperProcess,
} from '../integration/kafka/support/processes.ts';
import { setUp, waitFor, waitUntilCaughtUp, type TestSetup } from '../integration/kafka/support/runtime.ts';
import { REDIS_URL } from '../integration/store/support/redis-servers.ts';

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

const owns = ownedPartitions;

/** The epoch a process last claimed partition `partition` with, from its log. */
function claimedEpoch(process: GatekeeperProcess, partition: number): number | undefined {
  const matches = [
    ...process.log().matchAll(new RegExp(`claimed partition ${partition} \\(epoch (\\d+)\\)`, 'g')),
  ];
  const last = matches.at(-1);
  return last === undefined ? undefined : Number(last[1]);
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
  // Each member decides and publishes its own three partitions; killing one moves its partitions
  // (and their outbox rows) to the other after the rebalance.
  await waitFor('the members to share the six partitions', () =>
    Promise.resolve(owns(a).length === 3 && owns(b).length === 3),
  );
  const [victim, survivor] = [a, b];

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
  await waitFor('the restarted member to own partitions again', () =>
    Promise.resolve(owns(again).length > 0),
  );
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

it('a member SIGSTOPped past its session timeout while records flow loses its partitions to the group; after SIGCONT its claims are fenced and the read_committed output (exactly-once) holds every transition once, in order', async () => {
  const stream = demoStream({
    entities: 600,
    seed: 23,
    duplicateRate: 0.1,
    illegalRate: 0.05,
    garbageRate: 0.005,
  });
  const expected = await expectationFor(stream);
  const messages = stream.inputs.map(eventMessage);
  const paused = await setUp(broker.brokers, 'e2e-sigstop', 6);
  try {
    const file = writeConfig(
      paused.config({
        delivery: 'exactly-once',
        limits: { sessionTimeoutMs: 6_000, heartbeatIntervalMs: 1_000, relayIdleMs: 50, maxInFlight: 100 },
      }),
    );
    const a = startGatekeeper('stopped', file);
    const b = startGatekeeper('successor', file);
    processes.push(a, b);
    await Promise.all([a.consuming, b.consuming]);
    await waitFor('the members to share the six partitions', () =>
      Promise.resolve(owns(a).length === 3 && owns(b).length === 3),
    );
    const lost = owns(a);
    const epochsOfA = lost.map((partition) => claimedEpoch(a, partition) ?? 0);
    // Records keep flowing across the stop, so the stopped member is likely mid-batch or mid-round.
    const producing = (async () => {
      for (let at = 0; at < messages.length; at += 200) {
        await produce(paused.brokers, paused.input, messages.slice(at, at + 200));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await waitFor(
      'a quarter of the input committed',
      async () => (await committedTotal(paused.brokers, paused.group, paused.input)) >= messages.length / 4,
    );

    a.kill('SIGSTOP');
    await waitFor(
      'the successor to own all six partitions',
      () => Promise.resolve(owns(b).length === 6),
      60_000,
    );
    const redis = new Redis(REDIS_URL);
    try {
      // The successor's claims superseded every claim of the stopped member.
      for (const [index, partition] of lost.entries()) {
        const epoch = Number(await redis.hget(`{${paused.prefix}:${partition}}:owner`, 'epoch'));
        expect(epoch).toBeGreaterThan(epochsOfA[index] as number);
      }
      const stoppedLog = a.log().length;
      a.kill('SIGCONT');
      await producing;
      await waitUntilCaughtUp(paused, messages.length, 150_000);
      await waitFor('both members to own partitions again', () =>
        Promise.resolve(owns(a).length > 0 && owns(b).length > 0 && owns(a).length + owns(b).length === 6),
      );
      a.kill('SIGTERM');
      b.kill('SIGTERM');
      const [aExit, bExit] = await Promise.all([a.exited, b.exited]);
      expect(aExit.code, a.log()).toBe(0);
      expect(bExit.code, b.log()).toBe(0);
      // Whatever the resumed member tried for a lost partition before it rejoined was refused by the fence.
      const resumed = a.log().slice(stoppedLog);
      const refusedWrites = (resumed.match(/was claimed by another member/g) ?? []).length;
      const { output } = await expectExactlyOnce(paused, expected);
      console.log(
        `e2e SIGSTOP: ${messages.length} input records; read_committed output ${output.records} records (${output.duplicates} duplicates); ${refusedWrites} refused writes after SIGCONT`,
      );
    } finally {
      await redis.quit();
    }
  } finally {
    await paused.cleanup();
  }
}, 300_000);

it('two exactly-once members, one SIGKILLed mid-stream (wherever it was: after a commit, inside a transaction, before a delete) and started again: the read_committed output holds every transition exactly once', async () => {
  const stream = demoStream({
    entities: 800,
    seed: 29,
    duplicateRate: 0.15,
    illegalRate: 0.05,
    garbageRate: 0.005,
  });
  const expected = await expectationFor(stream);
  const messages = stream.inputs.map(eventMessage);
  const eos = await setUp(broker.brokers, 'e2e-eos-kill', 6);
  try {
    const file = writeConfig(
      eos.config({
        delivery: 'exactly-once',
        limits: {
          sessionTimeoutMs: 6_000,
          heartbeatIntervalMs: 1_000,
          relayIdleMs: 20,
          relayBatchSize: 100,
          maxInFlight: 100,
        },
      }),
    );
    const a = startGatekeeper('eos-a', file);
    const b = startGatekeeper('eos-b', file);
    processes.push(a, b);
    await Promise.all([a.consuming, b.consuming]);
    await waitFor('the members to share the six partitions', () =>
      Promise.resolve(owns(a).length === 3 && owns(b).length === 3),
    );
    const producing = (async () => {
      for (let at = 0; at < messages.length; at += 300) {
        await produce(eos.brokers, eos.input, messages.slice(at, at + 300));
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
    await waitFor(
      'a third of the input committed',
      async () => (await committedTotal(eos.brokers, eos.group, eos.input)) >= messages.length / 3,
    );
    a.kill('SIGKILL');
    expect((await a.exited).signal).toBe('SIGKILL');
    const again = startGatekeeper('eos-a-again', file);
    processes.push(again);
    await again.consuming;
    await producing;
    await waitUntilCaughtUp(eos, messages.length, 150_000);
    await waitFor('the restarted member to own partitions again', () =>
      Promise.resolve(owns(again).length > 0),
    );
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    again.kill('SIGTERM');
    b.kill('SIGTERM');
    const [againExit, bExit] = await Promise.all([again.exited, b.exited]);
    expect(againExit.code, again.log()).toBe(0);
    expect(bExit.code, b.log()).toBe(0);

    const { output } = await expectExactlyOnce(eos, expected);
    console.log(
      `e2e exactly-once kill: ${messages.length} input records; read_committed output ${output.records} records, ${output.duplicates} duplicates`,
    );
  } finally {
    await eos.cleanup();
  }
}, 300_000);
