/**
 * Ownership follows the assignment: with a shared Redis store each input partition is a shard,
 * owned by the member assigned it, which decides, publishes and sweeps only that partition's
 * entities and rows. Members join (1 → 3) and leave while a shuffled, duplicated stream over six
 * partitions is processed with exactly-once delivery; read_committed, the output holds every
 * transition once in per-entity order and one dead letter for every rejection. Plus the start-up checks: co-partitioned input topics, and a store
 * whose shard count is not the partition count.
 */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../../src/core/errors.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import type { RunningGatekeeper } from '../../../src/kafka/index.ts';
import { expectationFor, expectExactlyOnce } from './support/expected.ts';
import {
  committedTotal,
  createTopics,
  deleteTopics,
  eventMessage,
  produce,
  uniqueName,
} from './support/kafka.ts';
import { useSharedBroker, waitFor, waitUntilCaughtUp } from './support/runtime.ts';

const setUpTest = useSharedBroker();

describe('partition ownership on a shared Redis store', () => {
  it('1 → 3 members joining and leaving over 6 partitions, exactly-once: each publishes only the partitions it owns, and the read_committed output holds every transition once in per-entity order and every dead letter once', async () => {
    const stream = demoStream({
      entities: 500,
      seed: 13,
      duplicateRate: 0.15,
      illegalRate: 0.05,
      garbageRate: 0.005,
    });
    const expected = await expectationFor(stream);
    const setup = await setUpTest('ownership', 6);
    const total = stream.inputs.length;
    const third = Math.ceil(total / 3);

    /** Per member, its current and previous assignment (a round that began before a rebalance may finish after it). */
    const assignments = new Map<string, { now: number[]; before: number[] }>();
    const published = new Map<string, Set<number>>();
    const violations: string[] = [];
    const member = (name: string): Promise<RunningGatekeeper> =>
      setup.start(
        {
          clientId: name,
          delivery: 'exactly-once',
          limits: {
            sessionTimeoutMs: 10_000,
            heartbeatIntervalMs: 1_000,
            relayIdleMs: 50,
            relayBatchSize: 200,
          },
        },
        {
          metrics: {
            ownedPartitions: (partitions) =>
              assignments.set(name, { now: [...partitions], before: assignments.get(name)?.now ?? [] }),
            published: (kind, records, partition) => {
              const owned = assignments.get(name);
              if (partition === undefined || !owned || ![...owned.now, ...owned.before].includes(partition))
                violations.push(
                  `${name} published ${records} ${kind} rows of partition ${partition} owning ${owned?.now.join(',')}`,
                );
              else {
                const set = published.get(name) ?? new Set<number>();
                set.add(partition);
                published.set(name, set);
              }
            },
          },
        },
      );

    const a = await member('member-a');
    await produce(setup.brokers, setup.input, stream.inputs.slice(0, third).map(eventMessage));
    await waitFor('member a to own all six partitions', () => Promise.resolve(a.partitions().length === 6));
    await waitFor(
      'a third committed',
      async () => (await committedTotal(setup.brokers, setup.group, setup.input)) >= third / 2,
    );

    const b = await member('member-b');
    const c = await member('member-c');
    await produce(setup.brokers, setup.input, stream.inputs.slice(third, 2 * third).map(eventMessage));
    await waitFor(
      'three members sharing the six partitions',
      () => Promise.resolve([a, b, c].every((running) => running.partitions().length === 2)),
      60_000,
    );
    const shares = [a, b, c].map((running) => running.partitions());
    expect(shares.flat().sort()).toEqual([0, 1, 2, 3, 4, 5]);

    await b.stop();
    await produce(setup.brokers, setup.input, stream.inputs.slice(2 * third).map(eventMessage));
    await waitFor('two members sharing the six partitions', () =>
      Promise.resolve([a, c].every((running) => running.partitions().length === 3)),
    );
    await waitUntilCaughtUp(setup, total, 150_000);
    await waitFor('the outboxes and dead letters to drain', async () => {
      const store = (running: RunningGatekeeper) => running.gatekeeper.store;
      const rows = await Promise.all(
        [a, c].flatMap((running) => [store(running).readOutbox(1), store(running).readDeadLetters(1)]),
      );
      return rows.every((list) => list.length === 0);
    });
    await a.stop();
    await c.stop();

    expect(violations).toEqual([]);
    // Publishing was shared: more than one member published rows.
    expect([...published.values()].filter((set) => set.size > 0).length).toBeGreaterThan(1);
    const { output, dead } = await expectExactlyOnce(setup, expected);
    console.log(
      `ownership 1 → 3, exactly-once: ${total} inputs; read_committed output ${output.records} records (${output.duplicates} duplicates), ${dead.duplicates} duplicate dead letters`,
    );
    expect(dead.inconsistent).toBe(0);
    expect(expected.rejected.size).toBeGreaterThan(10);
  }, 300_000);

  it('refuses to start on input topics with different partition counts, naming both', async () => {
    const setup = await setUpTest('copartition', 3);
    const other = uniqueName('copartition-other');
    await createTopics(setup.brokers, [other], 2);
    try {
      const config = setup.config();
      const started = setup.start({ topics: { ...config.topics, input: [setup.input, other] } });
      await expect(started).rejects.toThrow(InvalidConfigError);
      await expect(
        setup.start({ topics: { ...config.topics, input: [setup.input, other] } }),
      ).rejects.toThrow(/co-partitioned.*has 3.*has 2|co-partitioned.*has 2.*has 3/s);
    } finally {
      await deleteTopics(setup.brokers, [other]);
    }
  }, 120_000);

  it('refuses a store made for another partition count, naming the re-shard command', async () => {
    const setup = await setUpTest('partition-count', 3);
    const first = await setup.start();
    await first.stop();
    const wider = await setUpTest('partition-count-wider', 4);
    await expect(
      wider.start({ redis: { url: (setup.config().redis as { url: string }).url, prefix: setup.prefix } }),
    ).rejects.toThrow(/3 kafka-partitions shards.*4 kafka-partitions shards.*gatekeeper reshard/s);
  }, 120_000);
});
