import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { InvalidConfigError } from '../../../../src/core/errors.ts';
import {
  bufferField,
  decodeEntityId,
  encodeEntityId,
  KeySpace,
  shardOf,
} from '../../../../src/store/redis/keys.ts';

/** The hash tag Redis Cluster hashes: the text between the first "{" and the next "}". */
function hashTag(key: string): string {
  const open = key.indexOf('{');
  const close = key.indexOf('}', open + 1);
  return key.slice(open + 1, close);
}

const anyText = fc.string({ unit: 'binary', maxLength: 40 });
const anyRef = fc.record({
  aggregate: fc.string({ unit: 'binary', minLength: 1, maxLength: 12 }),
  key: anyText,
});

describe('redis key layout', () => {
  it('round-trips any aggregate and key, unpaired surrogates included', () => {
    fc.assert(
      fc.property(anyRef, (ref) => {
        expect(decodeEntityId(encodeEntityId(ref))).toEqual(ref);
      }),
    );
  });

  it('never gives two different entities the same encoded id, even when naive joining would collide', () => {
    const pairs = [
      [
        { aggregate: 'a:b', key: 'c' },
        { aggregate: 'a', key: 'b:c' },
      ],
      [
        { aggregate: 'a', key: '\uD800' },
        { aggregate: 'a', key: '\uDFFF' },
      ],
      [
        { aggregate: 'a', key: '\uFFFD' },
        { aggregate: 'a', key: '\uD800' },
      ],
      [
        { aggregate: 'u1', key: ':ab' },
        { aggregate: 'u', key: '1:ab' },
      ],
    ];
    for (const [left, right] of pairs) expect(encodeEntityId(left!)).not.toBe(encodeEntityId(right!));
    fc.assert(
      fc.property(anyRef, anyRef, (left, right) => {
        fc.pre(left.aggregate !== right.aggregate || left.key !== right.key);
        expect(encodeEntityId(left)).not.toBe(encodeEntityId(right));
      }),
    );
  });

  it('keeps encoded ids injective after UTF-8 encoding (what Redis actually stores)', () => {
    fc.assert(
      fc.property(anyRef, anyRef, (left, right) => {
        fc.pre(left.aggregate !== right.aggregate || left.key !== right.key);
        expect(Buffer.from(encodeEntityId(left)).equals(Buffer.from(encodeEntityId(right)))).toBe(false);
      }),
    );
  });

  it('puts every key of an entity under its shard hash tag, whatever braces the key contains', () => {
    const keys = new KeySpace('gk', 16);
    fc.assert(
      fc.property(anyRef, (ref) => {
        const entity = keys.entity(ref);
        const tag = `gk:${entity.shard}`;
        expect(hashTag(entity.state)).toBe(tag);
        expect(hashTag(entity.history)).toBe(tag);
        const shard = keys.shard(entity.shard);
        for (const key of [shard.outbox, shard.dead, shard.stalled, shard.parked])
          expect(hashTag(key)).toBe(tag);
        expect(entity.state.startsWith(`{${tag}}:`)).toBe(true);
      }),
    );
    expect(hashTag(keys.entity({ aggregate: 'order', key: '}{evil}{' }).state)).toMatch(/^gk:\d+$/);
  });

  it('spreads entities over every shard and gives the same shard in every process', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2_000; i += 1) seen.add(shardOf({ aggregate: 'order', key: `o-${i}` }, 16));
    expect(seen.size).toBe(16);
    // Pinned values: changing the hash would move every stored entity to another shard.
    expect(shardOf({ aggregate: 'order', key: 'o1' }, 16)).toBe(13);
    expect(shardOf({ aggregate: 'customer', key: 'c-42' }, 16)).toBe(
      shardOf({ aggregate: 'customer', key: 'c-42' }, 16),
    );
  });

  it('keeps buffer fields injective for any event id', () => {
    expect(bufferField('\uD800')).not.toBe(bufferField('\uDFFF'));
    fc.assert(
      fc.property(anyText, anyText, (a, b) => {
        fc.pre(a !== b);
        expect(Buffer.from(bufferField(a)).equals(Buffer.from(bufferField(b)))).toBe(false);
      }),
    );
  });

  it('refuses prefixes that would break the hash tag and shard counts out of range', () => {
    for (const prefix of ['', 'a{b', 'a}b', '\uD800'])
      expect(() => new KeySpace(prefix, 16)).toThrow(InvalidConfigError);
    for (const shards of [0, -1, 1.5, 16_385])
      expect(() => new KeySpace('gk', shards)).toThrow(InvalidConfigError);
    expect(() => new KeySpace('app:gatekeeper', 1)).not.toThrow();
  });

  it('rejects text decodeEntityId could not have produced', () => {
    for (const member of ['', 'x1:ab', 'u9:ab', 'uA:ab', 'w12:00', 'wzz00:0000'])
      expect(decodeEntityId(member)).toBeUndefined();
  });
});
