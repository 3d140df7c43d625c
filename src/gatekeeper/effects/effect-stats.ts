/** Counters of one process's effect runners, read by the metrics on each scrape. */
export interface EffectStats {
  /** Effects whose handler succeeded. */
  ran: number;
  /** Of those, the ones that had failed before. */
  succeededAfterRetry: number;
  /** Attempts that threw or timed out. */
  failedAttempts: number;
  /** Effects that used up their attempts and went to the failure log. */
  exhausted: number;
  /** Effects that used up their attempts and were dead-lettered (policy `dead-letter`). */
  deadLettered: number;
  /** Effects moved to a holding list behind a failing one. */
  held: number;
  /** Operator retries and skips of failed effects. */
  operatorRetries: number;
  operatorSkips: number;
}

export function emptyEffectStats(): EffectStats {
  return {
    ran: 0,
    succeededAfterRetry: 0,
    failedAttempts: 0,
    exhausted: 0,
    deadLettered: 0,
    held: 0,
    operatorRetries: 0,
    operatorSkips: 0,
  };
}
