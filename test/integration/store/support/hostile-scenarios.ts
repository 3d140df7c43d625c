/**
 * Bad and hostile input, run against every store: keys with any characters, payloads of several
 * megabytes, prototype-pollution-shaped JSON and values JSON cannot hold. Each is stored and read
 * back unchanged, or refused with a typed error; the process and the other entities carry on.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { setup } from 'xstate';
import machines from '../../../../machines/index.ts';
import { createGatekeeper, GatekeeperError, type Gatekeeper } from '../../../../src/index.ts';
import type { StoreHarness } from './harness.ts';

/** A machine without payload schemas, so payloads reach the store exactly as sent. */
const docMachine = setup({}).createMachine({
  id: 'doc',
  initial: 'draft',
  states: {
    draft: { on: { 'doc.saved': 'saved' } },
    saved: { on: { 'doc.saved': 'saved', 'doc.published': 'published' } },
    published: { type: 'final' },
  },
});

/** Keys that break naive key building: separators, braces, unicode, control characters, the maximum length. */
export const HOSTILE_KEYS = [
  'plain',
  'a:b',
  'a:b:c',
  '{tag}',
  '}{',
  '{',
  '}',
  'x{y}z',
  '{gk:0}:e:u5:order',
  '__proto__',
  'constructor',
  'with space',
  'new\nline',
  'nul\u0000byte',
  'tab\tand\r',
  '*?[glob]',
  'ünïcødé',
  '日本語のキー',
  '🔑🗝️',
  '\uD800',
  '\uDFFF',
  '\uFFFD',
  'k'.repeat(1_024),
  '🔑'.repeat(512),
];

export function defineHostileInputScenarios(harness: StoreHarness): void {
  let gatekeepers: Gatekeeper[] = [];
  beforeEach((context) => harness.begin(context.task.name));
  afterEach(async () => {
    await Promise.all(gatekeepers.map((gk) => gk.close()));
    gatekeepers = [];
    await harness.end();
  });
  const open = () => {
    const gk = createGatekeeper({
      machines: { ...machines, doc: docMachine },
      store: harness.open(),
      sweepIntervalMs: 0,
    });
    gatekeepers.push(gk);
    return gk;
  };

  it('keeps entities whose keys hold separators, braces, unicode, control characters or 1024 characters apart, across a restart', async () => {
    const first = open();
    for (const [index, key] of HOSTILE_KEYS.entries()) {
      const result = await first.handle({
        id: `p-${index}`,
        aggregate: 'order',
        key,
        seq: 1,
        type: 'order.placed',
        payload: { total: index + 1 },
      });
      expect(result.outcome.outcome).toBe('applied');
      // A future event per key exercises the buffer and the stalled index with the same key.
      await first.handle({
        id: `s-${index}`,
        aggregate: 'order',
        key,
        seq: 3,
        type: 'order.shipped',
        payload: {},
      });
    }
    await first.close();
    const second = open();
    for (const [index, key] of HOSTILE_KEYS.entries()) {
      const inspection = await second.inspect('order', key);
      expect(inspection, `entity ${JSON.stringify(key)}`).toMatchObject({
        key,
        state: 'placed',
        context: { total: index + 1 },
        lastSeq: 1,
      });
      expect(inspection?.buffered.map((b) => b.event.id)).toEqual([`s-${index}`]);
    }
    const stalled = await second.store.stalled(Date.now() + 1, 1_000);
    expect(new Set(stalled.map((s) => s.key))).toEqual(new Set(HOSTILE_KEYS));
    const outbox = await second.store.readOutbox(1_000);
    expect(new Set(outbox.map((row) => row.value.key))).toEqual(new Set(HOSTILE_KEYS));
  });

  it('stores a payload of several megabytes and prototype-pollution-shaped JSON unchanged, without touching any prototype', async () => {
    const big = 'x'.repeat(8 * 1024 * 1024);
    const hostile = JSON.parse(
      `{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},"toString":"not a function","big":"${big}"}`,
    ) as Record<string, unknown>;
    const first = open();
    // seq 2 waits in the buffer (stored), then is applied from it after a restart (read back, into the outbox).
    expect(
      (
        await first.handle({
          id: 'd-2',
          aggregate: 'doc',
          key: 'd',
          seq: 2,
          type: 'doc.saved',
          payload: hostile,
        })
      ).outcome.outcome,
    ).toBe('buffered');
    await first.close();
    const second = open();
    const result = await second.handle({
      id: 'd-1',
      aggregate: 'doc',
      key: 'd',
      seq: 1,
      type: 'doc.saved',
      payload: {},
    });
    expect(result.outcomes.map((o) => o.outcome)).toEqual(['applied', 'applied']);
    const row = (await second.store.readOutbox(10)).find((r) => r.value.id === 'd-2');
    const payload = row?.value.payload as Record<string, unknown>;
    expect(Object.hasOwn(payload, '__proto__')).toBe(true);
    expect(Object.getPrototypeOf(payload)).toBe(Object.prototype);
    expect(payload.constructor).toEqual({ prototype: { polluted: 'yes' } });
    expect(Object.getOwnPropertyDescriptor(payload, 'toString')?.value).toBe('not a function');
    expect((payload.big as string).length).toBe(big.length);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((Object.prototype as Record<string, unknown>).polluted).toBeUndefined();
  }, 60_000);

  it('records input that is not an envelope, however odd, as a dead letter', async () => {
    const gk = open();
    const odd = [
      JSON.parse('{"__proto__":{"polluted":"yes"},"id":5}') as unknown,
      'just a string',
      null,
      42,
      [1, [2, [3]]],
      { key: '\uD800' },
    ];
    for (const input of odd)
      expect((await gk.handle(input)).outcome).toMatchObject({
        outcome: 'rejected',
        reason: 'invalid-envelope',
      });
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect((await gk.handle(cyclic)).outcome.outcome).toBe('rejected');
    expect((await gk.handle({ big: 10n })).outcome.outcome).toBe('rejected');
    const letters = await gk.store.readDeadLetters(100);
    expect(letters).toHaveLength(odd.length + 2);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses an event whose payload JSON cannot hold with a typed error, and the entity and process carry on', async () => {
    const gk = open();
    const refused = gk.handle({
      id: 'b-1',
      aggregate: 'doc',
      key: 'b',
      seq: 1,
      type: 'doc.saved',
      payload: { amount: 10n },
    });
    // The memory store keeps objects as they are, so it may accept what Redis cannot hold.
    const settled = await refused.then(
      (result) => ({ ok: true as const, result }),
      (error: unknown) => ({ ok: false as const, error }),
    );
    if (!settled.ok) expect(settled.error).toBeInstanceOf(GatekeeperError);
    const next = await gk.handle({
      id: settled.ok ? 'b-2' : 'b-1b',
      aggregate: 'doc',
      key: 'b',
      seq: settled.ok ? 2 : 1,
      type: 'doc.saved',
      payload: {},
    });
    expect(next.outcome.outcome).toBe('applied');
  });
}
