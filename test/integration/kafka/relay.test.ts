/**
 * The pieces of the Kafka runtime that need no broker: the offset tracker (only a decided prefix is
 * resolvable) and the relay (publish, then acknowledge; a failed publish acknowledges nothing and
 * is retried; an inactive relay leaves the rows alone; stop publishes what is left).
 */
import { describe, expect, it } from 'vitest';
import type { QueuedItem } from '../../../src/store/entity-store.ts';
import { MetricsSink } from '../../../src/kafka/metrics.ts';
import { OffsetTracker } from '../../../src/kafka/offset-tracker.ts';
import { Relay } from '../../../src/kafka/relay.ts';
import { decodeRecord } from '../../../src/kafka/record.ts';

describe('OffsetTracker', () => {
  it('resolves only the highest offset whose record and all earlier ones are decided', () => {
    const tracker = new OffsetTracker();
    const tickets = ['10', '11', '12', '13'].map((offset) => tracker.track(offset));
    tracker.complete(tickets[1] as number);
    tracker.complete(tickets[3] as number);
    expect(tracker.advance()).toBeUndefined();
    tracker.complete(tickets[0] as number);
    expect(tracker.advance()).toBe('11');
    expect(tracker.advance()).toBeUndefined();
    tracker.complete(tickets[2] as number);
    expect(tracker.advance()).toBe('13');
    expect(tracker.unresolved).toBe(0);
  });
});

describe('decodeRecord', () => {
  const record = (key: string | null, value: string | null) => ({
    key: key === null ? null : Buffer.from(key),
    value: value === null ? null : Buffer.from(value),
    offset: '7',
  });

  it('tells events, unreadable records and key mismatches apart', () => {
    expect(decodeRecord('t', 0, record('k', '{"id":"e","key":"k"}'))).toMatchObject({
      kind: 'event',
      id: 'e',
    });
    expect(decodeRecord('t', 0, record('k', '{"id":"e"}'))).toMatchObject({ kind: 'event' }); // the gatekeeper refuses it
    expect(decodeRecord('t', 0, record('k', 'nope'))).toMatchObject({
      kind: 'unparseable',
      raw: { kafka: { topic: 't', partition: 0, offset: '7', key: 'k' }, value: 'nope' },
    });
    expect(decodeRecord('t', 0, record('k', null))).toMatchObject({ kind: 'unparseable' });
    expect(decodeRecord('t', 0, record('x', '{"id":"e","key":"k"}'))).toMatchObject({
      kind: 'key-mismatch',
      id: 'e',
    });
    expect(decodeRecord('t', 0, record(null, '{"id":"e","key":"k"}'))).toMatchObject({
      kind: 'key-mismatch',
    });
  });
});

/** An in-memory queue standing in for the store's outbox. */
function queue(values: string[]) {
  const rows = values.map((value, index) => ({ id: String(index), value }));
  return {
    rows,
    read: (limit: number): Promise<QueuedItem<string>[]> => Promise.resolve(rows.slice(0, limit)),
    ack: (ids: readonly string[]): Promise<void> => {
      for (const id of ids) {
        const at = rows.findIndex((row) => row.id === id);
        if (at >= 0) rows.splice(at, 1);
      }
      return Promise.resolve();
    },
  };
}

describe('Relay', () => {
  it('publishes in order, acknowledges only what was published, and retries a failed publish', async () => {
    const source = queue(['a1', 'a2', 'b1', 'a3', 'b2']);
    const published: string[] = [];
    let failures = 1;
    const retried: string[] = [];
    const relay = new Relay<string>({
      kind: 'output',
      read: source.read,
      ack: source.ack,
      publish: (rows) => {
        if (failures > 0) {
          failures -= 1;
          return Promise.reject(new Error('broker down'));
        }
        published.push(...rows.map((row) => row.value));
        return Promise.resolve();
      },
      batchSize: 2,
      idleMs: 10,
      maxBackoffMs: 20,
      metrics: new MetricsSink({ retry: (where) => retried.push(where) }),
    });
    relay.start();
    await expect.poll(() => source.rows.length, { timeout: 5_000 }).toBe(0);
    await relay.stop(1_000);
    expect(published).toEqual(['a1', 'a2', 'b1', 'a3', 'b2']);
    expect(retried).toEqual(['output relay']);
    expect(relay.total).toBe(5);
  });

  it('leaves the rows alone while inactive, and publishes what is left when stopped while active', async () => {
    const source = queue(['x1', 'x2', 'x3']);
    const published: string[] = [];
    const relayOf = (batchSize: number, idleMs: number) =>
      new Relay<string>({
        kind: 'dead-letter',
        read: source.read,
        ack: source.ack,
        publish: (rows) => {
          published.push(...rows.map((row) => row.value));
          return Promise.resolve();
        },
        batchSize,
        idleMs,
        maxBackoffMs: 20,
        metrics: new MetricsSink(),
      });
    const relay = relayOf(10, 10);
    relay.setActive(false);
    relay.start();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(published).toEqual([]);
    expect(await relay.stop(1_000)).toBe(true);
    expect(source.rows).toHaveLength(3);

    const again = relayOf(1, 60_000);
    expect(await again.stop(1_000)).toBe(true);
    expect(published).toEqual(['x1', 'x2', 'x3']);
  });
});
