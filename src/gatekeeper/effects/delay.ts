import type { EffectTimers } from './options.ts';

/** Waits `ms` on the injected timers, or less when `signal` aborts first. */
export function abortableDelay(timers: EffectTimers, signal: AbortSignal, ms: number): Promise<void> {
  if (ms <= 0 || signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      timers.clearTimeout(handle);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const handle = timers.setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
