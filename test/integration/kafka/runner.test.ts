/**
 * The Kafka runtime in-process against a real broker and real Redis: bad records are dead-lettered
 * without stalling their partition, and a clean stop commits everything so a restart reprocesses
 * nothing.
 */
import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../src/core/outcome.ts';
import { HEADERS, type OutputRecordValue } from '../../../src/kafka/index.ts';
import { ConfigResourceTypes } from 'kafkajs';
import { sequenced } from '../../support/events.ts';
import { client, committedTotal, eventMessage, produce, readTopic } from './support/kafka.ts';
import { outputSizes, useSharedBroker, waitFor, waitUntilCaughtUp } from './support/runtime.ts';

const setUpTest = useSharedBroker();

const order = (key: string, seq: number, type: string, payload: Record<string, unknown>) => ({
  id: `${key}-${seq}`,
  aggregate: 'order',
  key,
  seq,
  type,
  payload,
});

describe('gatekeeper run on Kafka', () => {
  it('dead-letters non-JSON, keyless, wrong-schema and key-mismatched records with their reason and coordinates, and keeps processing', async () => {
    const setup = await setUpTest('bad-records', 1);
    const running = await setup.start();
    await produce(setup.brokers, setup.input, [
      { key: 'o1', value: '{not json' },
      eventMessage(order('o1', 1, 'order.placed', { total: 10, currency: 'EUR' })),
      { key: null, value: JSON.stringify({ id: 'x1', aggregate: 'order', seq: 1, type: 'order.placed' }) }, // no key
      eventMessage({ id: 'x2', aggregate: 'order', key: 'o2', seq: 'one', type: 'order.placed' }), // wrong schema
      { key: 'not-o3', value: JSON.stringify(order('o3', 1, 'order.placed', { total: 5, currency: 'EUR' })) },
      { key: 'o1', value: null }, // tombstone
      eventMessage(order('o1', 3, 'order.shipped', { carrier: 'DHL' })),
      eventMessage(order('o1', 2, 'order.paid', { amount: 10 })),
      eventMessage(order('o1', 4, 'order.delivered', {})),
    ]);
    await waitFor('3 transitions and 5 dead letters', async () => {
      const sizes = await outputSizes(setup);
      return sizes.output >= 4 && sizes.deadLetters >= 5;
    });
    await running.stop();

    const output = await readTopic(setup.brokers, setup.output);
    const values = output.map((record) => JSON.parse(record.value ?? '') as OutputRecordValue);
    expect(values.map((value) => [value.id, value.state, value.seq])).toEqual([
      ['o1-1', 'placed', 1],
      ['o1-2', 'paid', 2],
      ['o1-3', 'shipped', 3],
      ['o1-4', 'delivered', 4],
    ]);
    expect(output.map((record) => record.key)).toEqual(['o1', 'o1', 'o1', 'o1']);
    expect(output[1]?.headers[HEADERS.id]).toBe('order/o1/2');
    expect(values[1]).toMatchObject({
      aggregate: 'order',
      key: 'o1',
      type: 'order.paid',
      payload: { amount: 10 },
      from: 'placed',
    });

    const dead = await readTopic(setup.brokers, setup.deadLetter);
    const byOffset = new Map(dead.map((record) => [record.headers[HEADERS.sourceOffset], record]));
    const reasonAt = (offset: string) => byOffset.get(offset)?.headers[HEADERS.reason];
    expect(dead).toHaveLength(5);
    expect(reasonAt('0')).toBe('invalid-envelope'); // not JSON
    expect(reasonAt('2')).toBe('invalid-envelope'); // no key
    expect(reasonAt('3')).toBe('invalid-envelope'); // wrong schema
    expect(reasonAt('4')).toBe('key-mismatch');
    expect(reasonAt('5')).toBe('invalid-envelope'); // tombstone
    for (const record of dead) {
      expect(record.headers[HEADERS.sourceTopic]).toBe(setup.input);
      expect(record.headers[HEADERS.sourcePartition]).toBe('0');
      expect(record.headers[HEADERS.detail]).toBeTruthy();
    }
    const notJson = JSON.parse(byOffset.get('0')?.value ?? '') as DeadLetter;
    expect(notJson.raw).toMatchObject({
      value: '{not json',
      kafka: { topic: setup.input, offset: '0', key: 'o1' },
    });
    const mismatch = JSON.parse(byOffset.get('4')?.value ?? '') as DeadLetter;
    expect(mismatch.event?.id).toBe('o3-1');
    expect(mismatch.detail).toContain('not-o3');
    expect(await committedTotal(setup.brokers, setup.group, setup.input)).toBe(9);
  });

  it('commits everything on a clean stop, so a restart reprocesses nothing into a second output', async () => {
    const setup = await setUpTest('clean-restart', 3);
    const events = Array.from({ length: 60 }, (_, i) =>
      order(`r${i}`, 1, 'order.placed', { total: 10 + i, currency: 'EUR' }),
    );
    const garbage = { key: 'g', value: 'garbage' };
    await produce(setup.brokers, setup.input, [...events.map(eventMessage), garbage]);
    const first = await setup.start();
    await waitUntilCaughtUp(setup, 61);
    await first.stop();
    const before = await outputSizes(setup);
    expect(before).toEqual({ output: 60, deadLetters: 1 });

    const second = await setup.start();
    const more = Array.from({ length: 5 }, (_, i) => order(`r${i}`, 2, 'order.paid', { amount: 10 + i }));
    await produce(setup.brokers, setup.input, more.map(eventMessage));
    await waitUntilCaughtUp(setup, 66);
    await waitFor('the 5 new transitions', async () => (await outputSizes(setup)).output >= 65);
    await second.stop();
    expect(await outputSizes(setup)).toEqual({ output: 65, deadLetters: 1 });
    const output = await readTopic(setup.brokers, setup.output);
    expect(new Set(output.map((record) => record.headers[HEADERS.id])).size).toBe(65);
  });
});

describe('records the broker refuses for good', () => {
  it('publishes a transition too large for the output topic without its payload, and the ones after it whole', async () => {
    const setup = await setUpTest('oversize', 1);
    const admin = client(setup.brokers).admin();
    await admin.connect();
    await admin.alterConfigs({
      validateOnly: false,
      resources: [
        {
          type: ConfigResourceTypes.TOPIC,
          name: setup.output,
          configEntries: [{ name: 'max.message.bytes', value: '900' }],
        },
      ],
    });
    await admin.disconnect();
    const running = await setup.start();
    const customer = sequenced('customer', 'c1');
    await produce(setup.brokers, setup.input, [
      eventMessage(customer(1, 'customer.created', { name: 'x'.repeat(2_000), email: 'c1@example.com' })),
      eventMessage(customer(2, 'customer.billing-details.added', { iban: 'NL91ABNA0417164300' })),
    ]);
    await waitFor('both transitions', async () => (await outputSizes(setup)).output >= 2);
    await running.stop();
    const output = await readTopic(setup.brokers, setup.output);
    expect(output.map((record) => record.headers[HEADERS.id])).toEqual(['customer/c1/1', 'customer/c1/2']);
    expect(output[0]?.headers[HEADERS.truncated]).toBe('MESSAGE_TOO_LARGE');
    expect(JSON.parse(output[0]?.value ?? '')).toMatchObject({ id: 'c1-1', state: 'created', payload: null });
    expect(output[1]?.headers[HEADERS.truncated]).toBeUndefined();
    expect(JSON.parse(output[1]?.value ?? '')).toMatchObject({ payload: { iban: 'NL91ABNA0417164300' } });
  });
});
