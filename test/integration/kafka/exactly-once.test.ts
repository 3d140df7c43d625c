/**
 * Exactly-once output for `read_committed` consumers (delivery: "exactly-once"): each owned
 * partition's rows are produced in a Kafka transaction that also commits how far it got. The
 * failure points are driven directly on the transactional publisher against the real broker and
 * Redis: a transaction committed but its rows never deleted (a crash right after the commit), and
 * a transaction left open (a crash inside it, or a zombie); then a whole run with members leaving
 * and joining whose read_committed output has no duplicate at all.
 */
import { afterAll, describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { demoStream } from '../../../src/demo/stream.ts';
import { HEADERS, type RunningGatekeeper } from '../../../src/kafka/index.ts';
import { outputMessage } from '../../../src/kafka/output-records.ts';
import { TransactionalPublisher, transactionalIdOf } from '../../../src/kafka/transactional-relay.ts';
import { redisStore, type RedisStore } from '../../../src/store/redis/index.ts';
import { partitionOfKey } from '../../../src/store/redis/partition-of-key.ts';
import { kafkaPartitionSharding } from '../../../src/store/redis/partition-sharding.ts';
import { sequenced } from '../../support/events.ts';
import { REDIS_URL } from '../store/support/redis-servers.ts';
import { expectationFor, expectExactlyOnce } from './support/expected.ts';
import { client, committedTotal, eventMessage, produce, readCommitted } from './support/kafka.ts';
import { useSharedBroker, waitFor, waitUntilCaughtUp, type TestSetup } from './support/runtime.ts';

const setUpTest = useSharedBroker();

/** A member's store on the test's prefix holding partition `partition`, with one order's transitions in its outbox. */
async function memberWithRows(setup: TestSetup, owner: string, partition: number, partitions: number) {
  const store = redisStore({
    url: REDIS_URL,
    prefix: setup.prefix,
    outbox: true,
    shards: partitions,
    sharding: kafkaPartitionSharding(partitions),
    claims: { owner },
  });
  await store.ownership?.claim(partition);
  const gatekeeper = createGatekeeperWithStore({ machines, store, sweepIntervalMs: 0 });
  return { store, gatekeeper };
}

function publisherFor(setup: TestSetup, store: RedisStore, partition: number) {
  const owned = store.ownership;
  if (!owned) throw new Error('no claims');
  return new TransactionalPublisher(
    client(setup.brokers),
    {
      kind: 'output',
      partition,
      groupId: setup.group,
      topic: setup.output,
      checkpointTopic: setup.input,
      readUpTo: (streamId, limit) => owned.readUpTo(partition, 'output', streamId, limit),
      ack: (ids) => owned.ackOutbox(partition, ids),
    },
    {
      full: (row) => outputMessage(row.value as never),
      reduced: (row, reason) => outputMessage(row.value as never, reason),
    },
    () => undefined,
  );
}

function keyOn(partition: number, partitions: number): string {
  for (let i = 0; ; i += 1) if (partitionOfKey(`eo-${i}`, partitions) === partition) return `eo-${i}`;
}

describe('exactly-once publishing', () => {
  it('after a transaction committed and before its rows were deleted, the next owner deletes them without publishing them again', async () => {
    const setup = await setUpTest('eos-after-commit', 3);
    const key = keyOn(1, 3);
    const first = await memberWithRows(setup, 'first', 1, 3);
    const o = sequenced('order', key);
    await first.gatekeeper.handle(o(1, 'order.placed', { total: 2 }));
    await first.gatekeeper.handle(o(2, 'order.paid', { amount: 2 }));
    const rows = await first.store.ownership!.readOutbox(1, 10);
    expect(rows).toHaveLength(2);
    const publisher = publisherFor(setup, first.store, 1);
    await publisher.publish(rows);
    // The crash: the transaction committed, the rows were never deleted from Redis.
    await publisher.close();
    await first.gatekeeper.close();

    const next = await memberWithRows(setup, 'next', 1, 3);
    const successor = publisherFor(setup, next.store, 1);
    expect(await successor.recover(await connectedAdmin(setup))).toBe(2);
    expect(await next.store.ownership!.readOutbox(1, 10)).toEqual([]);
    await next.gatekeeper.handle(o(3, 'order.shipped', {}));
    await successor.publish(await next.store.ownership!.readOutbox(1, 10));
    await successor.close();
    await next.gatekeeper.close();

    const output = await readCommitted(setup.brokers, setup.output);
    expect(output.map((record) => record.headers[HEADERS.id])).toEqual([
      `order/${key}/1`,
      `order/${key}/2`,
      `order/${key}/3`,
    ]);
  }, 120_000);

  it('a transaction left open (a crash inside it, or a zombie) is aborted by the next owner, its rows published once, and the zombie fenced', async () => {
    const setup = await setUpTest('eos-open', 3);
    const key = keyOn(2, 3);
    const zombieSide = await memberWithRows(setup, 'zombie', 2, 3);
    const o = sequenced('order', key);
    await zombieSide.gatekeeper.handle(o(1, 'order.placed', { total: 2 }));
    const rows = await zombieSide.store.ownership!.readOutbox(2, 10);
    // The zombie opens a transaction with the partition's transactionalId and sends, never committing.
    const zombie = client(setup.brokers).producer({
      transactionalId: transactionalIdOf(setup.group, 'output', 2),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await zombie.connect();
    const open = await zombie.transaction();
    await open.send({ topic: setup.output, messages: rows.map((row) => outputMessage(row.value)) });

    const next = await memberWithRows(setup, 'next', 2, 3);
    const successor = publisherFor(setup, next.store, 2);
    expect(await successor.recover(await connectedAdmin(setup))).toBe(0);
    await successor.publish(await next.store.ownership!.readOutbox(2, 10));
    await next.store.ownership!.ackOutbox(
      2,
      rows.map((row) => row.id),
    );
    await expect(open.commit()).rejects.toThrow();
    await zombie.disconnect().catch(() => undefined);
    await successor.close();
    await zombieSide.gatekeeper.close();
    await next.gatekeeper.close();

    const output = await readCommitted(setup.brokers, setup.output);
    expect(output.map((record) => record.headers[HEADERS.id])).toEqual([`order/${key}/1`]);
  }, 120_000);

  it('members joining and leaving over 6 partitions: the read_committed output holds every transition exactly once, in per-entity order, and every dead letter once', async () => {
    const stream = demoStream({
      entities: 400,
      seed: 5,
      duplicateRate: 0.15,
      illegalRate: 0.05,
      garbageRate: 0.005,
    });
    const expected = await expectationFor(stream);
    const setup = await setUpTest('eos-members', 6);
    const total = stream.inputs.length;
    const half = Math.ceil(total / 2);
    const member = (name: string): Promise<RunningGatekeeper> =>
      setup.start({
        clientId: name,
        delivery: 'exactly-once',
        limits: {
          sessionTimeoutMs: 10_000,
          heartbeatIntervalMs: 1_000,
          relayIdleMs: 50,
          relayBatchSize: 200,
        },
      });
    const a = await member('eos-a');
    await produce(setup.brokers, setup.input, stream.inputs.slice(0, half).map(eventMessage));
    await waitFor(
      'some input committed',
      async () => (await committedTotal(setup.brokers, setup.group, setup.input)) > half / 3,
    );
    const b = await member('eos-b');
    await waitFor('two members sharing the partitions', () =>
      Promise.resolve(a.partitions().length === 3 && b.partitions().length === 3),
    );
    await produce(setup.brokers, setup.input, stream.inputs.slice(half).map(eventMessage));
    await a.stop();
    const c = await member('eos-c');
    await waitUntilCaughtUp(setup, total, 150_000);
    await waitFor('the outboxes to drain', async () => {
      const rows = await Promise.all([b, c].map((running) => running.gatekeeper.store.readOutbox(1)));
      const dead = await Promise.all([b, c].map((running) => running.gatekeeper.store.readDeadLetters(1)));
      return [...rows, ...dead].every((list) => list.length === 0);
    });
    await b.stop();
    await c.stop();

    const { output } = await expectExactlyOnce(setup, expected);
    console.log(
      `exactly-once: ${total} input records, ${output.records} output records, 0 duplicates expected, ${output.duplicates} seen`,
    );
  }, 300_000);
});

async function connectedAdmin(setup: TestSetup) {
  const admin = client(setup.brokers).admin();
  await admin.connect();
  admins.push(admin);
  return admin;
}
const admins: Array<{ disconnect(): Promise<void> }> = [];
afterAll(async () => {
  for (const admin of admins.splice(0)) await admin.disconnect();
});
