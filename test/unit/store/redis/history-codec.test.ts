import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../../src/core/history.ts';
import { historyEntryFrom, historyEntryJson } from '../../../../src/store/redis/history-codec.ts';

const entries: HistoryEntry[] = [
  {
    at: 1_764_000_000_000,
    id: 'order-1',
    seq: 2,
    type: 'order.paid',
    outcome: 'applied',
    reason: 'legal',
    from: 'placed',
    state: 'paid',
    fromBuffer: false,
  },
  {
    at: 5,
    id: null,
    seq: null,
    type: null,
    outcome: 'migrated',
    reason: 'migration',
    detail: 'v1 → v2',
    state: { shipping: 'packed' },
    fromBuffer: false,
    machineVersion: 'v2',
    toVersion: 'v2',
  },
  {
    at: 6,
    id: 'x',
    seq: null,
    type: 't',
    outcome: 'rejected',
    reason: 'illegal-in-state',
    detail: 'not legal "here"\n',
    state: null,
    fromBuffer: true,
    machineVersion: 'fp-1',
  },
];

describe('the compact history entry', () => {
  it('reads back every entry field for field, in the object form’s field order', () => {
    for (const entry of entries) {
      const back = historyEntryFrom(JSON.parse(historyEntryJson(entry)));
      expect(JSON.stringify(back)).toBe(JSON.stringify(entry));
    }
  });

  it('is smaller than the object form', () => {
    for (const entry of entries)
      expect(historyEntryJson(entry).length).toBeLessThan(JSON.stringify(entry).length * 0.75);
  });

  it('still reads entries stored as objects before it', () => {
    const old = JSON.parse(JSON.stringify(entries[0])) as unknown;
    expect(historyEntryFrom(old)).toEqual(entries[0]);
  });
});
