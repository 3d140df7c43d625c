/**
 * The public shape of a durable transition handler (docs/effects.md) and its validated options.
 */
import type { AppliedTransition } from '../../core/outcome.ts';
import { InvalidConfigError } from '../../core/errors.ts';

export interface TransitionEffectContext {
  /**
   * The transition's record identity ("aggregate/key/seq", or ".../id:<id>" without seq): the same
   * on every attempt and after any restart; the Kafka output's gatekeeper-id header carries the
   * same value. Use it to write idempotently.
   */
  idempotencyKey: string;
  /** 1 on the first run; counts across restarts where the store keeps it (Redis), else per process. */
  attempt: number;
  /** Aborted when the attempt times out (timeoutMs) or the gatekeeper stops. */
  signal: AbortSignal;
}

/** The user's code, run for every applied transition after it is durable, in per-entity order. */
export type TransitionHandler = (
  transition: AppliedTransition,
  context: TransitionEffectContext,
) => Promise<void> | void;

export interface EffectsOptions {
  onTransition: TransitionHandler;
  /** Entities whose effects run at the same time (default 32); one entity's run one at a time, in order. */
  concurrency?: number;
  /** Attempts before the transition goes to the failure log (default 5). */
  maxAttempts?: number;
  /** Exponential back-off with full jitter between attempts (defaults 100 ms, 30 s). */
  backoff?: { initialMs?: number; maxMs?: number };
  /** One attempt's time limit (default 30 s); its signal aborts then and the attempt counts as failed. */
  timeoutMs?: number;
  /** How often an idle runner looks at the store anyway (default 1,000 ms); commits wake it sooner. */
  idlePollMs?: number;
}

/** Timers and randomness, injected so tests decide how long back-offs are. */
export interface EffectTimers {
  setTimeout: (callback: () => void, ms: number) => unknown;
  clearTimeout: (handle: unknown) => void;
  /** A number in [0, 1): the jitter. */
  random: () => number;
}

export const systemTimers: EffectTimers = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  random: () => Math.random(),
};

/** Every option filled in and checked. */
export interface ResolvedEffectsOptions {
  onTransition: TransitionHandler;
  concurrency: number;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  idlePollMs: number;
}

export function resolveEffectsOptions(options: EffectsOptions): ResolvedEffectsOptions {
  if (typeof options.onTransition !== 'function')
    throw new InvalidConfigError('effects.onTransition must be a function (the transition handler)');
  const resolved = {
    onTransition: options.onTransition,
    concurrency: options.concurrency ?? 32,
    maxAttempts: options.maxAttempts ?? 5,
    initialBackoffMs: options.backoff?.initialMs ?? 100,
    maxBackoffMs: options.backoff?.maxMs ?? 30_000,
    timeoutMs: options.timeoutMs ?? 30_000,
    idlePollMs: options.idlePollMs ?? 1_000,
  };
  for (const name of ['concurrency', 'maxAttempts', 'timeoutMs', 'idlePollMs'] as const)
    if (!Number.isSafeInteger(resolved[name]) || resolved[name] <= 0)
      throw new InvalidConfigError(`effects.${name} must be a positive integer (got ${resolved[name]})`);
  for (const name of ['initialBackoffMs', 'maxBackoffMs'] as const)
    if (!Number.isSafeInteger(resolved[name]) || resolved[name] < 0)
      throw new InvalidConfigError(`effects.backoff must be whole milliseconds >= 0 (got ${resolved[name]})`);
  return resolved;
}
