/**
 * Held entities under the Kafka runtime (real broker, real Redis): an entity whose stored
 * snapshot is corrupt, or whose machine throws on restore, is held with its reason while every
 * other entity of its partition keeps moving and the runner never restarts; an event for an
 * aggregate only another member knows is held for it, not dead-lettered.
 */
import { describe, expect, it } from 'vitest';
import { setup as xstateSetup } from 'xstate';
import { createGatekeeperWithStore } from '../../../src/gatekeeper/gatekeeper.ts';
import { redisStore } from '../../../src/store/redis/index.ts';
import { registries } from '../../fixtures/versions/ticket-machines.ts';
import { sequenced } from '../../support/events.ts';
import { REDIS_URL } from '../store/support/redis-servers.ts';
import { eventMessage, produce, readTopic, topicSize } from './support/kafka.ts';
import { useSharedBroker, waitUntilCaughtUp } from './support/runtime.ts';

const setUpTest = useSharedBroker();

describe('held entities on Kafka', () => {
  it('a corrupt snapshot and a machine that throws on restore hold their entities; the rest of the partition moves on, the runner does not restart', async () => {
    const setup = await setUpTest('held', 1);
    const first = await setup.start({ machines: 'test/fixtures/versions/ticket-v1.ts' });
    const k1 = sequenced('ticket', 'k1');
    const k2 = sequenced('ticket', 'k2');
    const k3 = sequenced('ticket', 'k3');
    await produce(
      setup.brokers,
      setup.input,
      [k1(1, 'ticket.opened'), k3(1, 'ticket.opened')].map(eventMessage),
    );
    await waitUntilCaughtUp(setup, 2);
    await first.stop();

    // Damage k1's snapshot bytes; make k3's snapshot one the machine throws on while restoring.
    const store = await recordedStore(setup.prefix);
    await store.client.hset(store.keys.entity({ aggregate: 'ticket', key: 'k1' }).state, 's', '{"value":');
    await store.client.hset(
      store.keys.entity({ aggregate: 'ticket', key: 'k3' }).state,
      's',
      JSON.stringify({
        status: 'active',
        value: { open: 'ghost' },
        context: {},
        children: {},
      }),
    );
    await store.close();

    const logs: string[] = [];
    const running = await setup.start(
      { machines: 'test/fixtures/versions/ticket-v1.ts' },
      { logger: (level, message) => logs.push(`${level} ${message}`) },
    );
    await produce(
      setup.brokers,
      setup.input,
      [
        k1(2, 'ticket.assigned'),
        k2(1, 'ticket.opened'),
        k3(2, 'ticket.assigned'),
        k2(2, 'ticket.assigned'),
      ].map(eventMessage),
    );
    await waitUntilCaughtUp(setup, 6);
    const inspector = createGatekeeperWithStore({
      machines: registries.v1,
      store: await recordedStore(setup.prefix),
      sweepIntervalMs: 0,
    });
    try {
      expect((await inspector.inspect('ticket', 'k1'))?.held?.reason).toBe('corrupt-snapshot');
      const k3Held = (await inspector.inspect('ticket', 'k3'))?.held;
      expect(k3Held?.reason).toBe('incompatible-snapshot');
      expect(k3Held?.detail).toMatch(/does not restore under the ticket machine/);
      expect((await inspector.inspect('ticket', 'k2'))?.state).toBe('assigned');
      expect((await inspector.inspect('ticket', 'k1'))?.buffered.map((entry) => entry.event.id)).toEqual([
        'k1-2',
      ]);
    } finally {
      await inspector.close();
    }
    expect(logs.filter((line) => line.includes('restarting'))).toEqual([]);
    expect(logs.some((line) => line.includes('held ticket/k1 (corrupt-snapshot)'))).toBe(true);
    await running.stop();
    await running.done;
    expect(await topicSize(setup.brokers, setup.deadLetter)).toBe(0);
  });

  it('an event for an aggregate only another member of the store knows is held for it, not dead-lettered as unknown-aggregate', async () => {
    const setup = await setUpTest('foreign', 1);
    const knowing = await setup.start({ machines: 'test/fixtures/versions/ticket-v1.ts' });
    const k1 = sequenced('ticket', 'k1');
    await produce(setup.brokers, setup.input, [eventMessage(k1(1, 'ticket.opened'))]);
    await waitUntilCaughtUp(setup, 1);
    await knowing.stop();

    // A member without the ticket machine (only an order aggregate) gets the next event.
    const order = xstateSetup({}).createMachine({ id: 'order', initial: 'new', states: { new: {} } });
    const logs: string[] = [];
    const other = await setup.start(
      { machines: { order } },
      { logger: (level, message) => logs.push(`${level} ${message}`) },
    );
    await produce(setup.brokers, setup.input, [eventMessage(k1(2, 'ticket.assigned'))]);
    await waitUntilCaughtUp(setup, 2);
    await other.stop();
    expect(await topicSize(setup.brokers, setup.deadLetter)).toBe(0);
    expect(logs.some((line) => line.includes('held ticket/k1 (aggregate-not-registered)'))).toBe(true);
    expect(logs).toContain(
      'warn the store has ticket entities (1 on 1) but this process has no machine for ticket: its events are held for a member that has one',
    );

    // The member that knows it drains what waited (its sweeper releases the hold).
    const again = await setup.start({ machines: 'test/fixtures/versions/ticket-v1.ts' });
    const inspector = createGatekeeperWithStore({
      machines: registries.v1,
      store: await recordedStore(setup.prefix),
      sweepIntervalMs: 0,
    });
    try {
      await again.gatekeeper.sweep();
      expect(await inspector.inspect('ticket', 'k1')).toMatchObject({
        state: 'assigned',
        lastSeq: 2,
        held: undefined,
      });
    } finally {
      await inspector.close();
      await again.stop();
    }
    const output = await readTopic(setup.brokers, setup.output);
    expect(output.map((record) => (JSON.parse(record.value ?? '{}') as { id: string }).id)).toEqual([
      'k1-1',
      'k1-2',
    ]);
  });
});

/** The Redis store `gatekeeper run` made (one shard per input partition), its layout read first. */
async function recordedStore(prefix: string) {
  const store = redisStore({ url: REDIS_URL, prefix, recordedLayout: true });
  await store.ready();
  return store;
}
