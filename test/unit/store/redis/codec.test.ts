import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../../src/core/outcome.ts';
import { deadLetterJson } from '../../../../src/store/redis/codec.ts';

function deepObject(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 0; level < levels; level += 1) value = { a: value };
  return value;
}

describe('redis codec: dead letters', () => {
  it('keeps a dead letter whose event cannot be JSON reduced (reason, detail, source, id, hash) instead of throwing', () => {
    const letter: DeadLetter = {
      reason: 'unknown-aggregate',
      detail: 'no machine',
      at: 3,
      event: { id: 'e-9', aggregate: 'x', key: 'k', type: 't', payload: deepObject(20_000) },
      aggregate: 'x',
      key: 'k',
      source: { topic: 'in', partition: 1, offset: '12' },
    };
    const stored = JSON.parse(deadLetterJson(letter)) as DeadLetter & { raw: Record<string, unknown> };
    expect(stored).toMatchObject({
      reason: 'unknown-aggregate',
      detail: 'no machine',
      aggregate: 'x',
      key: 'k',
      source: { topic: 'in', partition: 1, offset: '12' },
    });
    expect(stored.event).toBeUndefined();
    expect(stored.raw.id).toBe('e-9');
    expect(stored.raw.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(String(stored.raw.unserializable)).toContain('cannot be stored as JSON');
  });

  it('stores an ordinary dead letter whole', () => {
    const letter: DeadLetter = {
      reason: 'invalid-envelope',
      detail: 'd',
      at: 1,
      event: undefined,
      raw: 'x',
      aggregate: null,
      key: null,
    };
    expect(JSON.parse(deadLetterJson(letter))).toEqual(letter);
  });
});
