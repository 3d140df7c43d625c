/**
 * How the gatekeeper takes its effects on board: the engine built from the options and the store,
 * and the effect-failed entries of the one attention list and of `inspect`.
 */
import type { Aggregate } from '../../core/aggregate.ts';
import type { AttentionEntry } from '../../core/attention.ts';
import type { Clock } from '../../core/clock.ts';
import { InvalidConfigError } from '../../core/errors.ts';
import type { DeadLetter } from '../../core/outcome.ts';
import type { EffectRow, EffectStore } from '../../store/effect-queue.ts';
import type { EntityRef, EntityStore } from '../../store/entity-store.ts';
import type { Listeners } from '../listeners.ts';
import { EffectsEngine, type EffectFailure } from './effects-engine.ts';
import { resolveEffectsOptions, type EffectsOptions, type EffectTimers } from './options.ts';

export interface EffectsWiring {
  effects: EffectsOptions | undefined;
  /** 'manual': the caller starts each shard's runner (the Kafka runtime, per owned partition). */
  shards: 'all' | 'manual';
  timers: EffectTimers | undefined;
  store: EntityStore;
  effectStore: EffectStore | undefined;
  aggregates: ReadonlyMap<string, Aggregate>;
  clock: Clock;
  listeners: Listeners;
  /** Told about store failures the runners retry (default: a process warning, at most one per 10 s). */
  onError: ((error: unknown, where: string) => void) | undefined;
}

/** The engine, started on every shard unless `shards` is manual; undefined without effects. */
export function createEffectsEngine(wiring: EffectsWiring): EffectsEngine | undefined {
  if (wiring.effects === undefined) return undefined;
  const options = resolveEffectsOptions(wiring.effects);
  const { store, aggregates, clock, listeners } = wiring;
  const { effectStore } = wiring;
  if (!effectStore?.enabled)
    throw new InvalidConfigError(
      'effects need a store that keeps an effects queue: memoryStore({ effects: true }) or redisStore({ effects: true, ... })',
    );
  const engine = new EffectsEngine({
    store: effectStore,
    options,
    clock,
    ...(wiring.timers ? { timers: wiring.timers } : {}),
    policyOf: (aggregate) => aggregates.get(aggregate)?.onEffectExhausted ?? 'hold',
    deadLetter: async (row, error) => {
      const letter = effectDeadLetter(row, error, clock.now());
      await store.recordDeadLetter(letter);
      listeners.emit([], [], [letter]);
    },
    onError: wiring.onError ?? throttledWarning(),
  });
  listeners.add({ onTransition: (transition) => engine.wake(transition) });
  if (wiring.shards === 'all') engine.startAll();
  return engine;
}

function throttledWarning(): (error: unknown, where: string) => void {
  let last = 0;
  return (error, where) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    process.emitWarning(`gatekeeper ${where}: ${String(error)}`, 'GatekeeperWarning');
  };
}

/** The dead letter of an effect that used up its attempts under the `dead-letter` policy. */
function effectDeadLetter(row: EffectRow, error: string, at: number): DeadLetter {
  const { transition } = row;
  return {
    reason: 'effect-failed',
    detail: `the transition handler failed ${row.identity}: ${error}`,
    at,
    event: {
      id: transition.id,
      aggregate: transition.aggregate,
      key: transition.key,
      type: transition.type,
      ...(transition.seq > 0 ? { seq: transition.seq } : {}),
      ...(transition.payload === undefined ? {} : { payload: transition.payload }),
      ...(transition.time === undefined ? {} : { time: transition.time }),
    },
    aggregate: transition.aggregate,
    key: transition.key,
  };
}

/** The failure log as entries of the attention list. */
export async function effectAttention(store: EntityStore, limit: number): Promise<AttentionEntry[]> {
  if (!store.effects) return [];
  const failures = await store.effects.failures(limit);
  return failures.map((failure) => ({
    aggregate: failure.aggregate,
    key: failure.key,
    reason: 'effect-failed',
    detail: `${failure.idempotencyKey} failed ${failure.attempts} attempts: ${failure.error}${
      failure.heldCount > 0 ? ` (${failure.heldCount} later effects held)` : ''
    }`,
    since: failure.failedAt,
  }));
}

/** What `inspect` shows of an entity's effects: its failed one, and how many wait behind it. */
export interface EffectInspection {
  failure: EffectFailure | undefined;
  heldCount: number;
}

export async function inspectEffects(
  store: EntityStore,
  ref: EntityRef,
): Promise<EffectInspection | undefined> {
  if (!store.effects) return undefined;
  const [failure, heldCount] = await Promise.all([store.effects.failure(ref), store.effects.heldCount(ref)]);
  return { failure, heldCount };
}
