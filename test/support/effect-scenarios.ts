/**
 * The effects scenario every store must pass: a handler that always fails for some entities and
 * fails now and then for others. Every other entity's effects complete; the failing ones hold in
 * order; retry and skip release them in order; no entity's effects ever run out of order.
 */
import { expect } from 'vitest';
import type { AppliedTransition } from '../../src/core/outcome.ts';
import type { Gatekeeper } from '../../src/gatekeeper/gatekeeper.ts';
import type { EffectsOptions, TransitionEffectContext } from '../../src/gatekeeper/effects/options.ts';
import { orderHistory } from './events.ts';

/** One handler call as the handler saw it. */
export interface EffectCall {
  key: string;
  seq: number;
  idempotencyKey: string;
  attempt: number;
  ok: boolean;
}

/** A handler recording every call; `failing` keys always throw, `flaky` keys throw on odd attempts. */
export function recordingHandler(failing: Set<string>, flaky: Set<string>) {
  const calls: EffectCall[] = [];
  const succeeded = new Map<string, number[]>();
  const handler = (transition: AppliedTransition, context: TransitionEffectContext) => {
    const call = {
      key: transition.key,
      seq: transition.seq,
      idempotencyKey: context.idempotencyKey,
      attempt: context.attempt,
    };
    if (failing.has(transition.key)) {
      calls.push({ ...call, ok: false });
      throw new Error(`poison ${transition.key}`);
    }
    if (flaky.has(transition.key) && context.attempt % 2 === 1) {
      calls.push({ ...call, ok: false });
      return Promise.reject(new Error(`flaky ${transition.key}`));
    }
    calls.push({ ...call, ok: true });
    const list = succeeded.get(transition.key) ?? [];
    list.push(transition.seq);
    succeeded.set(transition.key, list);
    return Promise.resolve();
  };
  return { calls, succeeded, handler };
}

/** Fast effects options for tests: short back-off, few attempts. */
export function testEffects(onTransition: EffectsOptions['onTransition']): EffectsOptions {
  return { onTransition, maxAttempts: 3, backoff: { initialMs: 1, maxMs: 4 }, idlePollMs: 50 };
}

/**
 * No entity's calls go back in seq: a call for seq n only after seq n-1 succeeded (or, listed in
 * `skipped`, was skipped by an operator).
 */
export function expectPerEntityOrder(
  calls: readonly EffectCall[],
  skipped: ReadonlyArray<{ key: string; seq: number }> = [],
): void {
  const done = new Map<string, number>();
  for (const call of calls) {
    for (const skip of skipped)
      if (skip.key === call.key && (done.get(call.key) ?? 0) === skip.seq - 1) done.set(call.key, skip.seq);
    const last = done.get(call.key) ?? 0;
    expect(call.seq, `${call.key}: seq ${call.seq} ran after ${last} succeeded`).toBeLessThanOrEqual(
      last + 1,
    );
    expect(call.seq, `${call.key}: seq ${call.seq} ran again after ${last}`).toBeGreaterThanOrEqual(last);
    if (call.ok) done.set(call.key, call.seq);
  }
}

/**
 * Runs the scenario on a gatekeeper built by `open` with the given handler. 40 orders of 4
 * transitions each; o-1 and o-2 always fail, o-3..o-6 are flaky.
 */
export async function poisonAndFlakyScenario(
  open: (effects: EffectsOptions) => Gatekeeper,
  poisoned: { fix(key: string): void } & ReturnType<typeof recordingHandler>,
): Promise<void> {
  const gatekeeper = open(testEffects(poisoned.handler));
  const keys = Array.from({ length: 40 }, (_, i) => `o-${i}`);
  const effects = gatekeeper.effects;
  if (!effects) throw new Error('effects are not configured');
  // Interleaved: every entity's first event, then every second one, ...
  const histories = keys.map((key) => orderHistory(key));
  for (let step = 0; step < 4; step += 1)
    await gatekeeper.handleBatch(histories.map((history) => history[step]));
  await gatekeeper.idle();
  await effects.idle();

  for (const key of keys.filter((k) => k !== 'o-1' && k !== 'o-2'))
    expect(poisoned.succeeded.get(key), key).toEqual([1, 2, 3, 4]);
  const failures = await effects.failures();
  expect(failures.map((f) => [f.key, f.transition.seq, f.attempts, f.heldCount]).sort()).toEqual([
    ['o-1', 1, 3, 3],
    ['o-2', 1, 3, 3],
  ]);
  expect(failures[0]?.error).toMatch(/poison o-/);
  const attention = await gatekeeper.attention();
  expect(
    attention
      .filter((entry) => entry.reason === 'effect-failed')
      .map((e) => e.key)
      .sort(),
  ).toEqual(['o-1', 'o-2']);
  const inspected = await gatekeeper.inspect('order', 'o-1');
  expect(inspected?.effects?.failure?.transition.seq).toBe(1);
  expect(inspected?.effects?.heldCount).toBe(3);

  // Retry after the cause is fixed: the failed one runs again, then the held ones in order.
  poisoned.fix('o-1');
  await gatekeeper.retry('order', 'o-1');
  // Skip: the failed one is dropped, the held ones run in order once the cause is fixed.
  poisoned.fix('o-2');
  await effects.skip('order', 'o-2');
  // New effects of a held entity join the end of its holding list.
  await effects.idle();
  expect(poisoned.succeeded.get('o-1')).toEqual([1, 2, 3, 4]);
  expect(poisoned.succeeded.get('o-2')).toEqual([2, 3, 4]);
  expect(await effects.failures()).toEqual([]);
  expect(await gatekeeper.attention()).toEqual([]);

  expectPerEntityOrder(poisoned.calls, [{ key: 'o-2', seq: 1 }]);
  // The same key on every attempt of a transition, and attempts counted up from 1.
  const byKey = new Map<string, number[]>();
  for (const call of poisoned.calls)
    byKey.set(call.idempotencyKey, [...(byKey.get(call.idempotencyKey) ?? []), call.attempt]);
  expect(byKey.get('order/o-1/1')).toEqual([1, 2, 3, 4]);
  expect(byKey.get('order/o-3/1')).toEqual([1, 2]);
  for (const attempts of byKey.values()) expect(attempts).toEqual(attempts.map((_, i) => attempts[0]! + i));
  await gatekeeper.close();
}

/** The recording handler plus a way to stop a poisoned key from failing. */
export function poisonedHandler() {
  const failing = new Set(['o-1', 'o-2']);
  const recorded = recordingHandler(failing, new Set(['o-3', 'o-4', 'o-5', 'o-6']));
  return { ...recorded, fix: (key: string) => failing.delete(key) };
}

/** One successful or failed handler call, with who ran it. */
export interface RecordedEffect {
  entity: string;
  id: string;
  idempotencyKey: string;
  ok: boolean;
  member?: string;
}

/**
 * Checks recorded calls against the in-order result (`aggregate/key` → applied event ids): every
 * expected transition succeeded at least once, always with the same key, and no call for an
 * entity's transition happened before every earlier transition of that entity had succeeded.
 */
export function expectEffectsInOrder(
  calls: readonly RecordedEffect[],
  expected: ReadonlyMap<string, readonly string[]>,
): void {
  const done = new Map<string, number>();
  const keys = new Map<string, string>();
  const problems: string[] = [];
  for (const call of calls) {
    const ids = expected.get(call.entity) ?? [];
    const position = ids.indexOf(call.id);
    if (position < 0) {
      problems.push(`${call.entity}: ${call.id} is not an applied transition`);
      continue;
    }
    const previousKey = keys.get(call.id);
    if (previousKey !== undefined && previousKey !== call.idempotencyKey)
      problems.push(`${call.id} ran with keys ${previousKey} and ${call.idempotencyKey}`);
    keys.set(call.id, call.idempotencyKey);
    const succeeded = done.get(call.entity) ?? 0;
    if (position > succeeded)
      problems.push(`${call.entity}: ${call.id} (#${position}) ran before #${succeeded} succeeded`);
    if (call.ok && position === succeeded) done.set(call.entity, succeeded + 1);
  }
  for (const [entity, ids] of expected)
    if ((done.get(entity) ?? 0) !== ids.length)
      problems.push(`${entity}: ${done.get(entity) ?? 0} of ${ids.length} effects succeeded`);
  expect(problems.slice(0, 10)).toEqual([]);
}
