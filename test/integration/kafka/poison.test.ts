/**
 * Poison input against a real broker, on both stores: a record nested thousands of levels deep
 * and a burst of 40,000 garbage records. Every dead letter must be published (none trimmed while
 * unpublished, back-pressure holding the partition instead), and the partition must move on.
 */
import { describe, expect, it } from 'vitest';
import type { RunOptions } from '../../../src/kafka/index.ts';
import { HEADERS } from '../../../src/kafka/index.ts';
import { memoryStore } from '../../../src/store/memory-store.ts';
import { REDIS_URL } from '../store/support/redis-servers.ts';
import { eventMessage, produce, readTopic, topicSize } from './support/kafka.ts';
import { useSharedBroker, waitFor, waitUntilCaughtUp, type TestSetup } from './support/runtime.ts';

const setUpTest = useSharedBroker();

interface StoreKind {
  name: string;
  /** Run options and config overrides that put the runner on this store with a small dead-letter bound. */
  use(setup: TestSetup, deadLetterLimit: number): { overrides: Record<string, unknown>; options: RunOptions };
}

const kinds: StoreKind[] = [
  {
    name: 'memory',
    use: (_setup, deadLetterLimit) => ({
      overrides: { redis: undefined },
      options: { store: memoryStore({ outbox: true, deadLetterLimit }) },
    }),
  },
  {
    name: 'redis',
    use: (setup, deadLetterLimit) => ({
      overrides: { redis: { url: REDIS_URL, prefix: setup.prefix, deadLetterLimit } },
      options: {},
    }),
  },
];

const placed = (key: string) => ({
  id: `${key}-1`,
  aggregate: 'order',
  key,
  seq: 1,
  type: 'order.placed',
  payload: { total: 10, currency: 'EUR' },
});

describe.each(kinds)('poison records on the $name store', (kind) => {
  it('dead-letters a payload nested 6,000 levels deep under its key and goes on with the next record', async () => {
    const setup = await setUpTest(`deep-${kind.name}`, 1);
    const { overrides, options } = kind.use(setup, 100_000);
    const running = await setup.start(overrides, options);
    const deep = `{"id":"d-1","aggregate":"order","key":"d","seq":1,"type":"order.placed","payload":{"total":${'['.repeat(6_000)}${']'.repeat(6_000)}}}`;
    await produce(setup.brokers, setup.input, [{ key: 'd', value: deep }, eventMessage(placed('after'))]);
    await waitUntilCaughtUp(setup, 2);
    await waitFor('the dead letter and the transition', async () => {
      const [dead, output] = await Promise.all([
        topicSize(setup.brokers, setup.deadLetter),
        topicSize(setup.brokers, setup.output),
      ]);
      return dead >= 1 && output >= 1;
    });
    await running.stop();
    await expect(running.done).resolves.toBeUndefined();
    const [letter] = await readTopic(setup.brokers, setup.deadLetter);
    expect(letter?.key).toBe('d');
    expect(letter?.headers[HEADERS.reason]).toBe('invalid-envelope');
    expect(letter?.headers[HEADERS.detail]).toContain('nests deeper than');
    expect(letter?.headers[HEADERS.sourceOffset]).toBe('0');
    const output = await readTopic(setup.brokers, setup.output);
    expect(output.map((record) => record.key)).toEqual(['after']);
  });

  it('publishes every dead letter of a 40,000-record garbage burst, under back-pressure, and commits the whole input', async () => {
    const total = 40_000;
    const setup = await setUpTest(`burst-${kind.name}`, 2);
    // A bound far below the burst: the relay must keep up or the input waits; nothing is trimmed.
    const { overrides, options } = kind.use(setup, 400);
    const pressure: string[] = [];
    const running = await setup.start(overrides, {
      ...options,
      logger: (level, message) => {
        if (level === 'warn' && message.includes('holding the input')) pressure.push(message);
      },
    });
    const garbage = Array.from({ length: total }, (_, n) => ({
      key: n % 2 === 0 ? `g-${n}` : null,
      value: n % 3 === 0 ? `not json ${n}` : n % 3 === 1 ? String(n) : `[${n}]`,
      partition: n % 2,
    }));
    await produce(setup.brokers, setup.input, garbage, 5_000);
    await waitUntilCaughtUp(setup, total, 180_000);
    await waitFor(
      'every dead letter',
      async () => (await topicSize(setup.brokers, setup.deadLetter)) >= total,
      120_000,
    );
    await running.stop();
    await expect(running.done).resolves.toBeUndefined();

    const letters = await readTopic(setup.brokers, setup.deadLetter);
    const sources = new Set(
      letters.map(
        (record) => `${record.headers[HEADERS.sourcePartition]}/${record.headers[HEADERS.sourceOffset]}`,
      ),
    );
    expect(sources.size).toBe(total); // every input record has its letter (duplicates allowed, none missing)
    const keyed = letters.filter((record) => record.key !== null);
    expect(new Set(keyed.map((record) => record.key)).size).toBe(total / 2); // the record's key is kept
    expect(pressure.length).toBeGreaterThan(0); // the bound was reached and held the input
  }, 300_000);
});
