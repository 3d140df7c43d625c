/**
 * One attempt of a transition handler: its own AbortSignal, aborted when the attempt's time limit
 * passes or the runner stops. A handler that ignores its signal is not waited for past the limit:
 * the attempt counts as failed and the runner goes on (the abandoned call may still finish; effects
 * are at-least-once, so handlers write idempotently by the key). A handler that returns without a
 * promise finished within its call: no timer is set for it (the common case of a cheap handler).
 */
import type { AppliedTransition } from '../../core/outcome.ts';
import { messageOf } from '../../core/errors.ts';
import type { EffectTimers, TransitionHandler } from './options.ts';

export type AttemptResult = { ok: true } | { ok: false; error: string; stopped: boolean };

export interface AttemptInput {
  handler: TransitionHandler;
  transition: AppliedTransition;
  idempotencyKey: string;
  attempt: number;
  timeoutMs: number;
  /** Aborted when the runner stops. */
  stop: AbortSignal;
  timers: EffectTimers;
}

const OK: AttemptResult = { ok: true };

export function runAttempt(input: AttemptInput): AttemptResult | Promise<AttemptResult> {
  const controller = new AbortController();
  let returned: Promise<void> | void;
  try {
    returned = input.handler(input.transition, {
      idempotencyKey: input.idempotencyKey,
      attempt: input.attempt,
      signal: controller.signal,
    });
  } catch (error) {
    return failed(error, input.stop);
  }
  if (!isThenable(returned)) return OK;
  return raced(Promise.resolve(returned), controller, input);
}

async function raced(
  call: Promise<void>,
  controller: AbortController,
  input: AttemptInput,
): Promise<AttemptResult> {
  let settle: (result: AttemptResult) => void = () => undefined;
  const cut = new Promise<AttemptResult>((resolve) => (settle = resolve));
  const timer = input.timers.setTimeout(() => {
    controller.abort(new Error(`the attempt took longer than ${input.timeoutMs} ms`));
    settle({ ok: false, error: `timed out after ${input.timeoutMs} ms`, stopped: input.stop.aborted });
  }, input.timeoutMs);
  // Stopping aborts the signal and still waits for the handler (up to its time limit), so
  // stop() returns only once no handler of this runner is still running.
  const onStop = () => controller.abort(new Error('the gatekeeper is stopping'));
  if (input.stop.aborted) onStop();
  else input.stop.addEventListener('abort', onStop, { once: true });
  try {
    return await Promise.race([
      call.then(
        () => OK,
        (error: unknown) => failed(error, input.stop),
      ),
      cut,
    ]);
  } finally {
    input.timers.clearTimeout(timer);
    input.stop.removeEventListener('abort', onStop);
  }
}

function failed(error: unknown, stop: AbortSignal): AttemptResult {
  return { ok: false, error: messageOf(error) || String(error), stopped: stop.aborted };
}

function isThenable(value: unknown): value is PromiseLike<void> {
  return typeof (value as { then?: unknown } | undefined)?.then === 'function';
}
