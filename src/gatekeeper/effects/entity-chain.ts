/**
 * One entity's effects, run strictly in order: the next one only after the previous one succeeded
 * or left (skipped, dead-lettered). While the head fails and is retried, and after it went to the
 * failure log, the entity's later effects are moved to its durable holding list rather than kept
 * in memory, so a poison entity neither stalls the shard's queue nor grows the process. Once the
 * head succeeds (or an operator retried or skipped it), the holding list is released in order,
 * and new effects keep joining its end until it is empty.
 */
import type { Clock } from '../../core/clock.ts';
import type { EffectRow, EffectShard } from '../../store/effect-queue.ts';
import type { EntityRef } from '../../store/entity-store.ts';
import { runAttempt } from './attempt.ts';
import { backoffDelay } from './backoff.ts';
import { abortableDelay } from './delay.ts';
import type { EffectStats } from './effect-stats.ts';
import type { Limiter } from './limiter.ts';
import type { EffectTimers, ResolvedEffectsOptions } from './options.ts';

/**
 * open: effects run straight from the queue; retrying: the head failed and is tried again;
 * failed: the head is in the failure log (an operator decides); releasing: the holding list runs.
 */
export type ChainMode = 'open' | 'retrying' | 'failed' | 'releasing';

export interface ChainContext {
  shard: EffectShard;
  options: ResolvedEffectsOptions;
  limiter: Limiter;
  timers: EffectTimers;
  clock: Clock;
  stop: AbortSignal;
  stats: EffectStats;
  /** The aggregate's policy for an effect that failed its last attempt. */
  policyOf: (aggregate: string) => 'hold' | 'dead-letter';
  /** Writes the exhausted effect as a dead letter (reason effect-failed). */
  deadLetter: (row: EffectRow, error: string) => Promise<void>;
  /** Runs a store operation until it succeeds (retrying with back-off); rejects once stopping. */
  store<TResult>(operation: () => Promise<TResult>): Promise<TResult>;
  /** Acknowledges a queue row (batched with other entities' acknowledgements). */
  ack(row: EffectRow): Promise<void>;
  /** `rows` queue rows left memory (ran, held or failed). */
  settled(rows: number): void;
  /** The chain has nothing to do until something new arrives. */
  quiet(chain: EntityChain): void;
  /** Resolves while the shard is still this process's (checked at most every few hundred ms); else rejects. */
  confirmOwned(): Promise<void> | undefined;
  /** The chain's work failed in a way the runner must handle (a fenced shard). */
  crashed(error: unknown): void;
}

type RowOutcome = 'done' | 'failed' | 'stopped';

export class EntityChain {
  private state: ChainMode = 'open';
  private readonly pending: EffectRow[] = [];
  private readonly toHold: EffectRow[] = [];
  private working: Promise<void> | undefined;

  constructor(
    readonly ref: EntityRef,
    private readonly context: ChainContext,
    mode: ChainMode = 'open',
  ) {
    this.state = mode;
  }

  get mode(): ChainMode {
    return this.state;
  }

  /** Nothing in memory, nothing running, and nothing to release: only an operator or a new row moves it. */
  get quiet(): boolean {
    return (
      this.working === undefined &&
      this.pending.length === 0 &&
      this.toHold.length === 0 &&
      (this.state === 'open' || this.state === 'failed')
    );
  }

  /** Settles once the chain's current work stopped (for stop()). */
  settledWork(): Promise<void> {
    return this.working ?? Promise.resolve();
  }

  /** A new queue row of this entity, in queue order. */
  offer(row: EffectRow): void {
    if (this.state === 'open') this.pending.push(row);
    else this.toHold.push(row);
    this.pump();
  }

  /** The failed head left the failure log (an operator retried or skipped it): release the holding list. */
  release(): void {
    if (this.state !== 'failed') return;
    this.state = 'releasing';
    this.pump();
  }

  private pump(): void {
    if (this.working || this.context.stop.aborted) return;
    this.working = this.work()
      .catch((error: unknown) => {
        if (!this.context.stop.aborted) this.context.crashed(error);
      })
      .finally(() => {
        this.working = undefined;
        // Something may have arrived while the last step finished.
        if (!this.context.stop.aborted && !this.quiet && this.hasWork()) this.pump();
        else this.context.quiet(this);
      });
  }

  private hasWork(): boolean {
    return (
      this.toHold.length > 0 ||
      (this.state === 'open' && this.pending.length > 0) ||
      this.state === 'releasing' ||
      this.state === 'retrying'
    );
  }

  private async work(): Promise<void> {
    const { shard } = this.context;
    while (!this.context.stop.aborted) {
      if (this.toHold.length > 0) {
        await this.holdLater();
        continue;
      }
      if (this.state === 'open' && this.pending.length > 0) {
        const outcome = await this.runRow(this.pending[0] as EffectRow, 'queue');
        if (outcome === 'stopped') return;
        this.pending.shift();
        this.context.settled(1);
        continue;
      }
      if (this.state === 'releasing') {
        const head = await this.context.store(() => shard.firstHeld(this.ref));
        if (head === undefined) {
          // Rows that arrived meanwhile were queued to be held: hold them first, then look again.
          if (this.toHold.length === 0) this.state = 'open';
          continue;
        }
        if ((await this.runRow(head, 'held')) === 'stopped') return;
        continue;
      }
      return;
    }
  }

  /** Moves the rows waiting to be held to the entity's holding list, in order. */
  private async holdLater(): Promise<void> {
    const rows = this.toHold.splice(0);
    await this.context.store(() => this.context.shard.hold(this.ref, rows));
    this.context.stats.held += rows.length;
    this.context.settled(rows.length);
  }

  /** Runs one effect until it succeeds, its attempts are used up, or the runner stops. */
  private async runRow(row: EffectRow, from: 'queue' | 'held'): Promise<RowOutcome> {
    const { options, shard, stats, timers } = this.context;
    let failures = row.failures;
    // A round is maxAttempts attempts; one interrupted by a restart continues, an operator's retry
    // (the count is then a whole number of rounds) starts a new one.
    const roundEnd = failures - (failures % options.maxAttempts) + options.maxAttempts;
    for (;;) {
      // Both answer undefined in the common case: no promise and microtask per effect.
      const owned = this.context.confirmOwned();
      if (owned) await owned;
      const slot = this.context.limiter.acquire();
      if (slot) await slot;
      let result;
      try {
        const attempt = runAttempt({
          handler: options.onTransition,
          transition: row.transition,
          idempotencyKey: row.identity,
          attempt: failures + 1,
          timeoutMs: options.timeoutMs,
          stop: this.context.stop,
          timers,
        });
        result = attempt instanceof Promise ? await attempt : attempt;
      } finally {
        this.context.limiter.release();
      }
      if (result.ok) {
        stats.ran += 1;
        if (failures > 0) stats.succeededAfterRetry += 1;
        await this.leave(row, from);
        return 'done';
      }
      if (result.stopped) return 'stopped';
      stats.failedAttempts += 1;
      failures = await this.context.store(() => shard.countFailure(row));
      if (this.state === 'open') {
        // Later effects wait durably in the holding list, not in memory.
        this.state = 'retrying';
        this.toHold.push(...this.pending.splice(1));
      }
      if (this.toHold.length > 0) await this.holdLater();
      if (failures >= roundEnd) return this.exhausted(row, from, result.error, failures);
      const delay = backoffDelay(failures - (roundEnd - options.maxAttempts), options, timers.random);
      await abortableDelay(timers, this.context.stop, delay);
      if (this.context.stop.aborted) return 'stopped';
    }
  }

  /** The effect ran or was dead-lettered: it leaves the queue or the holding list. */
  private async leave(row: EffectRow, from: 'queue' | 'held'): Promise<void> {
    if (from === 'queue') await this.context.ack(row);
    else await this.context.store(() => this.context.shard.releaseFirst(this.ref, row));
    if (this.state === 'retrying') this.state = 'releasing';
  }

  private async exhausted(
    row: EffectRow,
    from: 'queue' | 'held',
    error: string,
    attempts: number,
  ): Promise<RowOutcome> {
    const { shard, stats, clock } = this.context;
    if (this.context.policyOf(row.transition.aggregate) === 'dead-letter') {
      await this.context.store(() => this.context.deadLetter(row, error));
      stats.deadLettered += 1;
      await this.leave(row, from);
      return 'done';
    }
    await this.context.store(() =>
      shard.fail(this.ref, row, from, { error, attempts, failedAt: clock.now() }),
    );
    stats.exhausted += 1;
    this.state = 'failed';
    return 'failed';
  }
}
