import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { textHash, valueHash } from '../../../src/store/value-hash.ts';

function deep(levels: number): unknown {
  let value: unknown = 1;
  for (let level = 0; level < levels; level += 1) value = { a: value };
  return value;
}

describe('valueHash', () => {
  it('hashes a text as the sha256 of its UTF-8 bytes, so it matches a hash of the input record', () => {
    const text = 'not json ✗';
    expect(textHash(text)).toBe(`sha256:${createHash('sha256').update(Buffer.from(text)).digest('hex')}`);
    expect(valueHash(text)).toBe(textHash(text));
  });

  it('gives equal values the same hash and different values different hashes', () => {
    expect(valueHash({ a: [1, 'x'], b: null })).toBe(valueHash({ a: [1, 'x'], b: null }));
    expect(valueHash({ a: [1, 'x'] })).not.toBe(valueHash({ a: ['1', 'x'] }));
    expect(valueHash([[1], 2])).not.toBe(valueHash([1, [2]]));
  });

  it('hashes a value nested deeper than JSON.stringify can go, and a cycle, without throwing', () => {
    const value = deep(50_000);
    expect(() => JSON.stringify(value)).toThrow(RangeError);
    expect(valueHash(value)).toMatch(/^sha256:[0-9a-f]{64}$/);
    const cycle: Record<string, unknown> = { id: 'c' };
    cycle.self = cycle;
    expect(valueHash(cycle)).toMatch(/^sha256:[0-9a-f]{64}$/);
  });
});
