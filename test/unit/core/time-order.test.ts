import { describe, expect, it } from 'vitest';
import {
  canonicalTime,
  compareMarks,
  futureTimeDetail,
  isHeld,
  isStaleTime,
  timedInOrder,
} from '../../../src/core/time-order.ts';
import type { EventEnvelope } from '../../../src/core/envelope.ts';

const timedEvent = (id: string, time: string): EventEnvelope & { time: string } => ({
  id,
  aggregate: 'valve',
  key: 'v1',
  type: 'valve.opened',
  time,
});

describe('time order (pure rules)', () => {
  it('writes every offset as the same UTC instant, so string order is time order', () => {
    expect(canonicalTime('2026-11-26T10:00:00+02:00')).toBe('2026-11-26T08:00:00.000000000Z');
    expect(canonicalTime('2026-11-26T08:00:00Z')).toBe('2026-11-26T08:00:00.000000000Z');
    expect(canonicalTime('2026-11-26T07:30:00.5-00:30')).toBe('2026-11-26T08:00:00.500000000Z');
    expect(canonicalTime('2026-11-26T09:00:00+02:00') < canonicalTime('2026-11-26T07:30:00Z')).toBe(true);
  });

  it('keeps digits below the millisecond, so microsecond-stamped events still order', () => {
    expect(canonicalTime('2026-11-26T10:00:00.1234567Z')).toBe('2026-11-26T10:00:00.123456700Z');
    expect(canonicalTime('2026-11-26T10:00:00.9999999999Z')).toBe('2026-11-26T10:00:00.999999999Z');
    expect(canonicalTime('2026-11-26T10:00:00.000001Z') > canonicalTime('2026-11-26T10:00:00Z')).toBe(true);
  });

  it('orders by time, then by id for the same time; an event not after the last applied one is stale', () => {
    const at = canonicalTime('2026-11-26T10:00:00Z');
    const later = canonicalTime('2026-11-26T10:00:01Z');
    expect(compareMarks({ at, id: 'z' }, { at: later, id: 'a' })).toBeLessThan(0);
    expect(compareMarks({ at, id: 'a' }, { at, id: 'b' })).toBeLessThan(0);
    expect(isStaleTime({ at, id: 'b' }, undefined)).toBe(false);
    expect(isStaleTime({ at, id: 'b' }, { at, id: 'b' })).toBe(true);
    expect(isStaleTime({ at, id: 'a' }, { at, id: 'b' })).toBe(true);
    expect(isStaleTime({ at, id: 'c' }, { at, id: 'b' })).toBe(false);
  });

  it('sorts the timed entries of a buffer by event time and id, leaving the others out', () => {
    const buffer = [
      { event: timedEvent('b', '2026-11-26T10:00:02Z') },
      { event: { id: 'untimed', aggregate: 'valve', key: 'v1', type: 'valve.closed' } },
      { event: timedEvent('c', '2026-11-26T12:00:01+02:00') },
      { event: timedEvent('a', '2026-11-26T10:00:01Z') },
      { event: { ...timedEvent('s', '2026-11-26T09:00:00Z'), seq: 3 } },
    ];
    expect(timedInOrder(buffer).map(({ event }) => event.id)).toEqual(['a', 'c', 'b']);
  });

  it('rejects a time only when it is more than maxFutureMs ahead of the clock', () => {
    const now = Date.parse('2026-11-26T10:00:00Z');
    expect(futureTimeDetail(timedEvent('a', '2026-11-26T10:01:00Z'), now, 60_000)).toBeUndefined();
    expect(futureTimeDetail(timedEvent('a', '2026-11-26T10:01:00.001Z'), now, 60_000)).toBe(
      "time 2026-11-26T10:01:00.001Z is 60001 ms ahead of the gatekeeper's clock, more than maxFutureMs (60000); check the producer's clock",
    );
  });

  it('holds an entry for holdMs and releases it only strictly after; a zero hold holds nothing', () => {
    expect(isHeld({ receivedAt: 1_000 }, 1_500, 500)).toBe(true);
    expect(isHeld({ receivedAt: 1_000 }, 1_501, 500)).toBe(false);
    expect(isHeld({ receivedAt: 1_000 }, 1_000, 0)).toBe(false);
  });
});
