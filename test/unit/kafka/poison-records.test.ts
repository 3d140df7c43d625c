import { describe, expect, it } from 'vitest';
import machines from '../../../machines/index.ts';
import { MAX_JSON_DEPTH } from '../../../src/core/json-depth.ts';
import type { DeadLetter } from '../../../src/core/outcome.ts';
import { textHash } from '../../../src/store/value-hash.ts';
import { createGatekeeper } from '../../../src/index.ts';
import {
  deadLetterMessage,
  HEADERS,
  outputMessage,
  UNSERIALIZABLE,
} from '../../../src/kafka/output-records.ts';
import { decodeRecord } from '../../../src/kafka/record.ts';

function deepObject(levels: number): Record<string, unknown> {
  let value: Record<string, unknown> = {};
  for (let level = 0; level < levels; level += 1) value = { a: value };
  return value;
}

const record = (value: string | null, key: string | null = 'k-1', offset = '7') => ({
  key: key === null ? null : Buffer.from(key),
  value: value === null ? null : Buffer.from(value),
  offset,
});

describe('poison records', () => {
  it('refuses a value nested deeper than the limit before parsing it, keeping its text', () => {
    const text = `{"id":"e","aggregate":"order","key":"k-1","type":"order.placed","payload":${'['.repeat(6_000)}${']'.repeat(6_000)}}`;
    const decoded = decodeRecord('in', 0, record(text));
    expect(decoded.kind).toBe('unparseable');
    if (decoded.kind !== 'unparseable') return;
    expect(decoded.detail).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    expect(decoded.raw).toEqual({
      kafka: { topic: 'in', partition: 0, offset: '7', key: 'k-1' },
      value: text,
    });
  });

  it('measures the nesting of a value exactly as long as it is deep: one level past the limit is refused, the limit itself parsed', () => {
    // Texts of MAX_JSON_DEPTH + 1 and MAX_JSON_DEPTH characters, the shortest at each depth.
    const past = decodeRecord('in', 0, record('['.repeat(MAX_JSON_DEPTH + 1)));
    expect(past.kind === 'unparseable' && past.detail).toContain(`deeper than ${MAX_JSON_DEPTH} levels`);
    const at = decodeRecord('in', 0, record(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`));
    expect(at.kind).toBe('event'); // an array, refused later by the gatekeeper as no envelope
    const short = decodeRecord('in', 0, record('['.repeat(MAX_JSON_DEPTH)));
    expect(short.kind === 'unparseable' && short.detail).toContain('not JSON');
  });

  it('still parses an envelope with an ordinarily nested payload', () => {
    const text = JSON.stringify({
      id: 'e',
      aggregate: 'order',
      key: 'k-1',
      type: 't',
      payload: deepObject(50),
    });
    expect(decodeRecord('in', 0, record(text)).kind).toBe('event');
  });

  it('publishes a dead letter whose event cannot be JSON reduced: reason, detail, source, id and hash', () => {
    const event = { id: 'e-deep', aggregate: 'order', key: 'k-1', type: 't', payload: deepObject(20_000) };
    const letter: DeadLetter = {
      reason: 'invalid-payload',
      detail: 'payload refused',
      at: 1,
      event: event,
      aggregate: 'order',
      key: 'k-1',
      source: { topic: 'in', partition: 2, offset: '9' },
    };
    const message = deadLetterMessage({ id: '5', value: letter });
    expect(message.headers?.[HEADERS.truncated]).toBe(UNSERIALIZABLE);
    expect(message.key).toBe('k-1');
    const value = JSON.parse(String(message.value)) as Record<string, unknown>;
    expect(value).toMatchObject({
      reason: 'invalid-payload',
      detail: 'payload refused',
      id: 'e-deep',
      source: { topic: 'in', partition: 2, offset: '9' },
    });
    expect(value.hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(value.event).toBeUndefined();
  });

  it('publishes a transition whose payload cannot be JSON without the payload', () => {
    const message = outputMessage({
      id: 'e',
      aggregate: 'order',
      key: 'k',
      seq: 1,
      type: 't',
      payload: deepObject(20_000),
      state: 'placed',
      from: 'none',
    } as unknown as Parameters<typeof outputMessage>[0]);
    expect(message.headers?.[HEADERS.truncated]).toBe(UNSERIALIZABLE);
    expect(JSON.parse(String(message.value))).toMatchObject({ id: 'e', payload: null, state: 'placed' });
  });

  it('a reduced dead letter of an unreadable record carries the size and hash of its text', () => {
    const text = 'x'.repeat(2_000);
    const decoded = decodeRecord('in', 0, record(text));
    if (decoded.kind !== 'unparseable') throw new Error('expected unparseable');
    const letter: DeadLetter = {
      reason: 'invalid-envelope',
      detail: decoded.detail,
      at: 1,
      event: undefined,
      raw: decoded.raw,
      aggregate: null,
      key: null,
    };
    const value = JSON.parse(
      String(deadLetterMessage({ id: '1', value: letter }, 'MESSAGE_TOO_LARGE').value),
    ) as Record<string, unknown>;
    expect(value).toMatchObject({ size: 2_000, hash: textHash(text) });
    expect(value).not.toHaveProperty('raw');
  });

  it.each([
    ['a number', '42'],
    ['an array', '[1,2,3]'],
    ['an envelope whose key is not a string', '{"id":"e","aggregate":"order","key":5,"type":"t"}'],
  ])('dead-letters %s under the record’s key', async (_name, text) => {
    const gatekeeper = createGatekeeper({ machines, sweepIntervalMs: 0 });
    const letters: DeadLetter[] = [];
    gatekeeper.subscribe({ onRejected: (letter) => letters.push(letter) });
    const decoded = decodeRecord('in', 0, record(text, 'rec-key'));
    expect(decoded.kind).toBe('event');
    if (decoded.kind !== 'event') return;
    await gatekeeper.handle(decoded.input, { topic: 'in', partition: 0, offset: '7', key: 'rec-key' });
    expect(letters).toHaveLength(1);
    const message = deadLetterMessage({ id: '1', value: letters[0] as DeadLetter });
    expect(message.key).toBe('rec-key');
    expect(message.headers?.[HEADERS.reason]).toBe('invalid-envelope');
    await gatekeeper.close();
  });
});
