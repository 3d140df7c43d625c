/**
 * The transition handler in the Kafka runtime: with the memory store and no output topic (the
 * handler is the only effect), and with a shared Redis store over two members and a rebalance,
 * where a partition's effects run on its owner, a poison entity holds and is released by an
 * operator, and every entity's effects run in order.
 */
import { describe, expect, it } from 'vitest';
import { InvalidConfigError } from '../../../src/core/errors.ts';
import type { AppliedTransition } from '../../../src/core/outcome.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import type { TransitionEffectContext } from '../../../src/gatekeeper/effects/options.ts';
import { runGatekeeper, type RunningGatekeeper } from '../../../src/kafka/index.ts';
import { partitionOfKey } from '../../../src/store/redis/partition-of-key.ts';
import { expectEffectsInOrder, type RecordedEffect } from '../../support/effect-scenarios.ts';
import { expectationFor } from './support/expected.ts';
import { eventMessage, produce, topicSize } from './support/kafka.ts';
import { useSharedBroker, waitFor, waitUntilCaughtUp } from './support/runtime.ts';

const setUpTest = useSharedBroker();
const fast = { maxAttempts: 3, backoff: { initialMs: 1, maxMs: 10 }, idlePollMs: 100 };

function recorder(member: string, calls: RecordedEffect[], failing: Set<string> = new Set()) {
  return (transition: AppliedTransition, context: TransitionEffectContext) => {
    const entity = `${transition.aggregate}/${transition.key}`;
    const call = { entity, id: transition.id, idempotencyKey: context.idempotencyKey, member };
    // Flaky: every transition's first attempt fails for a tenth of the entities.
    const flaky = transition.key.endsWith('3') && context.attempt === 1;
    if (failing.has(entity) || flaky) {
      calls.push({ ...call, ok: false });
      throw new Error(`down for ${entity}`);
    }
    calls.push({ ...call, ok: true });
  };
}

describe('effects in the Kafka runtime', () => {
  it('memory store, topics.output false: the handler gets every transition in per-entity order and nothing is published', async () => {
    const stream = demoStream({ entities: 200, seed: 21, duplicateRate: 0.1, illegalRate: 0.05 });
    const expected = await expectationFor(stream);
    const setup = await setUpTest('effects-memory', 2);
    const calls: RecordedEffect[] = [];
    const running = await setup.start(
      { redis: undefined, topics: { input: [setup.input], output: false, deadLetter: setup.deadLetter } },
      { onTransition: recorder('only', calls), effects: fast },
    );
    await produce(setup.brokers, setup.input, stream.inputs.map(eventMessage));
    await waitUntilCaughtUp(setup, stream.inputs.length);
    await running.gatekeeper.effects?.idle();
    expectEffectsInOrder(calls, expected.applied);
    expect(await topicSize(setup.brokers, setup.output)).toBe(0);
    expect(await topicSize(setup.brokers, setup.deadLetter)).toBeGreaterThan(0);
  }, 120_000);

  it('refuses topics.output false without a handler', async () => {
    const setup = await setUpTest('effects-refuse', 1);
    await expect(
      runGatekeeper(
        setup.config({ topics: { input: [setup.input], output: false, deadLetter: setup.deadLetter } }),
      ),
    ).rejects.toThrow(InvalidConfigError);
  });

  it('shared Redis, two members and a rebalance: effects run on their partition owner, in order, a poison entity holds until an operator retries it', async () => {
    const stream = demoStream({ entities: 300, seed: 22, duplicateRate: 0.1, illegalRate: 0.03 });
    const expected = await expectationFor(stream);
    const poison = [...expected.applied.entries()]
      .filter(([, ids]) => ids.length >= 2)
      .slice(0, 2)
      .map(([entity]) => entity);
    const failing = new Set(poison);
    const setup = await setUpTest('effects-redis', 4);
    const calls: RecordedEffect[] = [];
    const assignments = new Map<string, { now: number[]; before: number[] }>();
    const member = (name: string): Promise<RunningGatekeeper> =>
      setup.start(
        { clientId: name },
        {
          onTransition: recorder(name, calls, failing),
          effects: fast,
          metrics: {
            ownedPartitions: (partitions) =>
              assignments.set(name, { now: [...partitions], before: assignments.get(name)?.now ?? [] }),
          },
        },
      );
    const a = await member('member-a');
    const half = Math.ceil(stream.inputs.length / 2);
    await produce(setup.brokers, setup.input, stream.inputs.slice(0, half).map(eventMessage));
    await waitFor('member a to own all partitions', () => Promise.resolve(a.partitions().length === 4));
    const b = await member('member-b');
    await waitFor('the two members to share the partitions', () =>
      Promise.resolve(
        a.partitions().length > 0 &&
          b.partitions().length > 0 &&
          a.partitions().length + b.partitions().length === 4,
      ),
    );
    await produce(setup.brokers, setup.input, stream.inputs.slice(half).map(eventMessage));
    await waitUntilCaughtUp(setup, stream.inputs.length);
    await waitFor('the poison entities in the failure log', async () => {
      const failures = (await a.gatekeeper.effects?.failures()) ?? [];
      return failures.length === poison.length;
    });
    const attention = await b.gatekeeper.attention();
    expect(
      attention
        .filter((entry) => entry.reason === 'effect-failed')
        .map((e) => `${e.aggregate}/${e.key}`)
        .sort(),
    ).toEqual([...poison].sort());

    // Every call ran on a member that owned the entity's partition then (or just before a rebalance).
    const misplaced = calls.filter((call) => {
      const owned = assignments.get(call.member ?? '');
      const partition = partitionOfKey(call.entity.slice(call.entity.indexOf('/') + 1), 4);
      return !owned || ![...owned.now, ...owned.before].includes(partition);
    });
    expect(misplaced.slice(0, 5)).toEqual([]);

    // The operator fixes the cause and retries from either member: the owner's runner picks it up.
    failing.clear();
    for (const entity of poison) {
      const [aggregate, key] = entity.split('/') as [string, string];
      await b.gatekeeper.retry(aggregate, key);
    }
    await waitFor('the failure log to empty and the held effects to run', async () => {
      const failures = (await a.gatekeeper.effects?.failures()) ?? [];
      await Promise.all([a.gatekeeper.effects?.idle(), b.gatekeeper.effects?.idle()]);
      const pending =
        (await a.gatekeeper.store.effects?.heldCount({
          aggregate: poison[0]!.split('/')[0]!,
          key: poison[0]!.split('/')[1]!,
        })) ?? 0;
      return failures.length === 0 && pending === 0;
    });
    await Promise.all([a.gatekeeper.effects?.idle(), b.gatekeeper.effects?.idle()]);
    expectEffectsInOrder(calls, expected.applied);
  }, 180_000);
});
