/**
 * A process's effect runners (one per shard it runs: every shard for the library, each owned
 * partition's with Kafka) sharing one concurrency limit, and the operator's view of them:
 * `gatekeeper.effects`.
 */
import type { Clock } from '../../core/clock.ts';
import { OperatorActionError } from '../../core/errors.ts';
import type { EffectRow, EffectStore, StoredEffectFailure } from '../../store/effect-queue.ts';
import type { EntityRef } from '../../store/entity-store.ts';
import { emptyEffectStats, type EffectStats } from './effect-stats.ts';
import { Limiter } from './limiter.ts';
import { systemTimers, type EffectTimers, type ResolvedEffectsOptions } from './options.ts';
import { ShardRunner } from './shard-runner.ts';

/** A transition whose handler failed its last attempt, with how many later effects wait behind it. */
export type EffectFailure = StoredEffectFailure;

/** `gatekeeper.effects`: present when effects are configured. */
export interface GatekeeperEffects {
  /** The failure log, oldest first. */
  failures(limit?: number): Promise<EffectFailure[]>;
  /** Runs the entity's failed transition again; once it succeeds the held ones run in order. */
  retry(aggregate: string, key: string): Promise<void>;
  /** Moves past the failed transition (recorded as skipped) and releases the held ones in order. */
  skip(aggregate: string, key: string): Promise<EffectFailure>;
  /** Resolves once every effect committed so far has run, or sits in the failure log or a holding list. */
  idle(): Promise<void>;
  /** Counters since this process started. */
  stats(): Readonly<EffectStats>;
  /** Effects waiting in the queues of the shards this process runs. */
  pending(): Promise<number>;
}

export interface EffectsEngineOptions {
  store: EffectStore;
  options: ResolvedEffectsOptions;
  clock: Clock;
  timers?: EffectTimers;
  policyOf: (aggregate: string) => 'hold' | 'dead-letter';
  deadLetter: (row: EffectRow, error: string) => Promise<void>;
  onError: (error: unknown, where: string) => void;
}

export class EffectsEngine implements GatekeeperEffects {
  private readonly runners = new Map<number, ShardRunner>();
  private readonly limiter: Limiter;
  private readonly counters = emptyEffectStats();
  private stopped = false;

  constructor(private readonly engine: EffectsEngineOptions) {
    this.limiter = new Limiter(engine.options.concurrency);
  }

  /** Starts the runner of every shard of the store (the library: this process runs them all). */
  startAll(): void {
    for (const shard of this.engine.store.shards()) this.startShard(shard);
  }

  /** Starts the runner of one shard (its partition was claimed), replacing a stopped one. */
  startShard(shard: number): void {
    if (this.stopped || this.runners.has(shard)) return;
    const runner = new ShardRunner({
      shard: this.engine.store.shardQueue(shard),
      options: this.engine.options,
      limiter: this.limiter,
      timers: this.engine.timers ?? systemTimers,
      clock: this.engine.clock,
      stats: this.counters,
      policyOf: this.engine.policyOf,
      deadLetter: this.engine.deadLetter,
      onError: this.engine.onError,
    });
    this.runners.set(shard, runner);
    runner.start();
  }

  /** Stops one shard's runner (its partition was revoked): handlers aborted and waited for. */
  async stopShard(shard: number): Promise<void> {
    const runner = this.runners.get(shard);
    if (!runner) return;
    this.runners.delete(shard);
    await runner.stop();
  }

  /** Shards with a runner now. */
  shards(): number[] {
    return [...this.runners.keys()].sort((a, b) => a - b);
  }

  /** A commit appended effects for the entity: wake its shard's runner. */
  wake(ref: EntityRef): void {
    // Called for every applied transition: skip finding the shard when one runner has them all.
    if (this.runners.size === 1 && this.engine.store.shards().length === 1)
      for (const runner of this.runners.values()) runner.wake();
    else this.runners.get(this.engine.store.shardOf(ref))?.wake();
  }

  failures(limit = 1_000): Promise<EffectFailure[]> {
    return this.engine.store.failures(limit);
  }

  async retry(aggregate: string, key: string): Promise<void> {
    const ref = { aggregate, key };
    await retryFailedEffect(this.engine.store, ref);
    this.counters.operatorRetries += 1;
    this.runners.get(this.engine.store.shardOf(ref))?.released(ref);
  }

  async skip(aggregate: string, key: string): Promise<EffectFailure> {
    const ref = { aggregate, key };
    const skipped = await skipFailedEffect(this.engine.store, ref);
    this.counters.operatorSkips += 1;
    this.runners.get(this.engine.store.shardOf(ref))?.released(ref);
    return skipped;
  }

  async idle(): Promise<void> {
    await Promise.all([...this.runners.values()].map((runner) => runner.idle()));
  }

  stats(): Readonly<EffectStats> {
    return { ...this.counters };
  }

  async pending(): Promise<number> {
    const store = this.engine.store;
    const counts = await Promise.all(this.shards().map((shard) => store.shardQueue(shard).backlog()));
    return counts.reduce((sum, count) => sum + count, 0);
  }

  /** Stops every runner: running handlers are aborted and waited for. */
  async stop(): Promise<void> {
    this.stopped = true;
    const all = [...this.runners.values()];
    this.runners.clear();
    await Promise.all(all.map((runner) => runner.stop()));
  }
}

/** Operator: the entity's failed effect runs again (by whichever process runs the shard). */
export async function retryFailedEffect(store: EffectStore, ref: EntityRef): Promise<void> {
  if (!(await store.retry(ref)))
    throw new OperatorActionError(
      `${ref.aggregate}/${ref.key} has no failed effect, so there is nothing to retry`,
    );
}

/** Operator: the entity's failed effect is skipped; its held ones are released by the shard's runner. */
export async function skipFailedEffect(store: EffectStore, ref: EntityRef): Promise<EffectFailure> {
  const skipped = await store.skip(ref);
  if (!skipped)
    throw new OperatorActionError(
      `${ref.aggregate}/${ref.key} has no failed effect, so there is nothing to skip`,
    );
  return skipped;
}
