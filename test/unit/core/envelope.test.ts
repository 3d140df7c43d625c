import { describe, expect, it } from 'vitest';
import { ENVELOPE_LIMITS, parseEnvelope } from '../../../src/core/envelope.ts';

const valid = { id: 'e-1', aggregate: 'order', key: 'o-1', seq: 1, type: 'order.placed' };

function messageFor(input: unknown): string {
  const parsed = parseEnvelope(input);
  if (parsed.ok) throw new Error(`expected ${JSON.stringify(input)} to be refused`);
  return parsed.message;
}

describe('event envelope', () => {
  it('accepts every bounded field at its limit and names the field one character past it', () => {
    for (const field of ['id', 'aggregate', 'key', 'type'] as const) {
      const limit = ENVELOPE_LIMITS[field];
      expect(parseEnvelope({ ...valid, [field]: 'x'.repeat(limit) }).ok).toBe(true);
      expect(messageFor({ ...valid, [field]: 'x'.repeat(limit + 1) })).toBe(
        `${field}: must be 1 to ${limit} characters long (got ${limit + 1})`,
      );
      expect(messageFor({ ...valid, [field]: '' })).toBe(
        `${field}: must be 1 to ${limit} characters long (got 0)`,
      );
    }
  });

  it('takes seq only as a positive safe integer, and no seq at all', () => {
    expect(parseEnvelope({ ...valid, seq: Number.MAX_SAFE_INTEGER }).ok).toBe(true);
    const { seq: _, ...unsequenced } = valid;
    expect(parseEnvelope(unsequenced).ok).toBe(true);
    for (const seq of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1]) {
      expect(messageFor({ ...valid, seq })).toBe(`seq: must be a positive integer (got ${seq})`);
    }
  });

  it('reports every broken bound in one message', () => {
    expect(messageFor({ ...valid, id: '', seq: -2 })).toBe(
      'id: must be 1 to 512 characters long (got 0); seq: must be a positive integer (got -2)',
    );
  });

  it('refuses a wrong shape with the field and what was expected', () => {
    expect(messageFor({ ...valid, key: 7 })).toBe('key: Invalid input: expected string, received number');
    expect(messageFor({ ...valid, payload: [1] })).toBe('payload: payload must be a JSON object');
    expect(messageFor({ ...valid, time: 'yesterday' })).toBe('time: Invalid ISO datetime');
    expect(messageFor('order.placed')).toBe('Invalid input: expected object, received string');
  });
});
