/**
 * kill -9 at each chosen point of exactly-once publishing, in a real `gatekeeper run` process:
 * GATEKEEPER_TEST_CRASH_AT (src/kafka/crash-points.ts) makes the process SIGKILL itself exactly
 * there — after decisions were committed and before their rows were produced; inside an open
 * transaction; after a transaction committed and before its rows were deleted. A second process
 * is started in its place; read with read_committed, the output then holds every transition
 * exactly once, in per-entity order, and the dead-letter topic every rejection exactly once.
 */
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoStream } from '../../src/demo/stream.ts';
import type { CrashPoint } from '../../src/kafka/crash-points.ts';
import { expectationFor, expectExactlyOnce } from '../integration/kafka/support/expected.ts';
import { eventMessage, produce, sharedBroker, type Broker } from '../integration/kafka/support/kafka.ts';
import {
  startGatekeeper,
  writeConfig,
  type GatekeeperProcess,
} from '../integration/kafka/support/processes.ts';
import { setUp, waitUntilCaughtUp } from '../integration/kafka/support/runtime.ts';
import { REDIS_URL } from '../integration/store/support/redis-servers.ts';

let broker: Broker;
const processes: GatekeeperProcess[] = [];
const configs: string[] = [];

beforeAll(async () => {
  broker = await sharedBroker();
}, 600_000);
afterAll(async () => {
  for (const process of processes) process.kill('SIGKILL');
  for (const file of configs) rmSync(dirname(file), { recursive: true, force: true });
  await broker.stop();
}, 120_000);

/** Rows waiting in the outbox and dead-letter streams of every shard (committed, not yet deleted). */
async function waitingRows(prefix: string, partitions: number): Promise<number> {
  const redis = new Redis(REDIS_URL);
  try {
    let total = 0;
    for (let shard = 0; shard < partitions; shard += 1)
      total +=
        (await redis.xlen(`{${prefix}:${shard}}:outbox`)) + (await redis.xlen(`{${prefix}:${shard}}:dead`));
    return total;
  } finally {
    await redis.quit();
  }
}

describe('kill -9 at a chosen point of exactly-once publishing, then a restart', () => {
  // The third time the point is reached: a few rounds went through before, the rest follow after.
  const cases: Array<{ point: CrashPoint; seed: number }> = [
    { point: 'before-publish', seed: 41 },
    { point: 'in-transaction', seed: 43 },
    { point: 'after-transaction', seed: 47 },
  ];
  it.each(cases)(
    'killed at $point: the read_committed output holds every transition once, in per-entity order, and every dead letter once',
    async ({ point, seed }) => {
      const stream = demoStream({
        entities: 400,
        seed,
        duplicateRate: 0.15,
        illegalRate: 0.05,
        garbageRate: 0.005,
      });
      const expected = await expectationFor(stream);
      const messages = stream.inputs.map(eventMessage);
      const setup = await setUp(broker.brokers, `crash-${point}`, 6);
      try {
        const file = writeConfig(
          setup.config({
            delivery: 'exactly-once',
            limits: {
              sessionTimeoutMs: 6_000,
              heartbeatIntervalMs: 1_000,
              relayIdleMs: 20,
              relayBatchSize: 50,
              maxInFlight: 100,
            },
          }),
        );
        configs.push(file);
        await produce(setup.brokers, setup.input, messages);

        const victim = startGatekeeper(`crash-${point}`, file, [], {
          GATEKEEPER_TEST_CRASH_AT: `${point}:3`,
        });
        processes.push(victim);
        const exit = await victim.exited;
        expect(exit.signal, victim.log()).toBe('SIGKILL');
        expect(victim.log()).toContain(`test crash at ${point}`);
        const waiting = await waitingRows(setup.prefix, 6);
        // Committed decisions whose rows were not deleted: what the restart must publish (or, after a
        // committed transaction, only delete) — none lost, none twice.
        expect(waiting).toBeGreaterThan(0);

        const again = startGatekeeper(`crash-${point}-again`, file);
        processes.push(again);
        await again.consuming;
        await waitUntilCaughtUp(setup, messages.length, 150_000);
        again.kill('SIGTERM');
        expect((await again.exited).code, again.log()).toBe(0);

        if (point === 'after-transaction')
          // The restarted member found the committed checkpoint and only deleted what it covered.
          expect(again.log()).toMatch(
            /rows were already published by a committed transaction; deleted without publishing them again/,
          );

        const { output, dead } = await expectExactlyOnce(setup, expected);
        console.log(
          `crash at ${point}: ${messages.length} inputs, ${waiting} rows waiting after the kill; read_committed output ${output.records} records (${output.duplicates} duplicates), ${dead.duplicates} duplicate dead letters`,
        );
      } finally {
        await setup.cleanup();
      }
    },
    240_000,
  );
});
