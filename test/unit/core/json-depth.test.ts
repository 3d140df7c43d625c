import { describe, expect, it } from 'vitest';
import { jsonDepth } from '../../../src/core/json-depth.ts';

describe('jsonDepth', () => {
  it('counts object and array nesting, not brackets inside strings or escaped quotes', () => {
    expect(jsonDepth('42', 10)).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":2}]}', 10)).toBe(3);
    expect(jsonDepth('{"a":"[[[{{{","b":"\\"[[["}', 10)).toBe(1);
    expect(jsonDepth('[[],[[]],[]]', 10)).toBe(3);
  });

  it('stops at the first level past the limit, and scans 100,000 levels without recursion', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    expect(jsonDepth(deep, 64)).toBe(65);
    expect(jsonDepth(deep, Number.POSITIVE_INFINITY)).toBe(100_000);
  });
});
