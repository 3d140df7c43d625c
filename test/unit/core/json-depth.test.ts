import { describe, expect, it } from 'vitest';
import { jsonDepth, MAX_JSON_DEPTH } from '../../../src/core/json-depth.ts';

const nested = (levels: number) => `${'['.repeat(levels)}1${']'.repeat(levels)}`;

describe('jsonDepth', () => {
  it('measures the deepest array or object nesting of a JSON text', () => {
    expect(jsonDepth('42')).toBe(0);
    expect(jsonDepth('{"a":[1,{"b":{}}],"c":[]}')).toBe(4);
    expect(jsonDepth(nested(100))).toBe(100);
  });

  it('ignores brackets inside strings, escaped quotes included', () => {
    expect(jsonDepth('{"a":"[[[{{{","b":"\\"[[[["}')).toBe(1);
  });

  it('stops as soon as the text passes the limit, reporting more than the limit', () => {
    const depth = jsonDepth(nested(20_000), MAX_JSON_DEPTH);
    expect(depth).toBe(MAX_JSON_DEPTH + 1);
  });
});
