/**
 * Exponential back-off with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * after the n-th failure, wait a uniformly random time up to min(max, initial × 2^(n-1)), so many
 * failing entities do not retry in lock-step against the same struggling service.
 */
export function backoffDelay(
  failures: number,
  limits: { initialBackoffMs: number; maxBackoffMs: number },
  random: () => number,
): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(limits.maxBackoffMs, limits.initialBackoffMs * 2 ** exponent);
  return Math.floor(random() * ceiling);
}
