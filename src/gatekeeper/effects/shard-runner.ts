/**
 * Runs one shard's effects: reads its queue in order, hands each row to its entity's chain
 * (entity-chain.ts), and keeps at most `window` queue rows in memory. It is its own loop, woken by
 * commits (no busy polling) and looking at the store every `idlePollMs` anyway, which is also how
 * it notices an operator's retry or skip made by another process. Deciding never waits for it.
 */
import { setMaxListeners } from 'node:events';
import type { Clock } from '../../core/clock.ts';
import { ShardFencedError, findCause } from '../../core/errors.ts';
import type { EffectRow, EffectShard } from '../../store/effect-queue.ts';
import type { EntityRef } from '../../store/entity-store.ts';
import { abortableDelay } from './delay.ts';
import { EntityChain, type ChainContext } from './entity-chain.ts';
import type { EffectStats } from './effect-stats.ts';
import type { Limiter } from './limiter.ts';
import type { EffectTimers, ResolvedEffectsOptions } from './options.ts';

export interface ShardRunnerOptions {
  shard: EffectShard;
  options: ResolvedEffectsOptions;
  limiter: Limiter;
  timers: EffectTimers;
  clock: Clock;
  stats: EffectStats;
  policyOf: (aggregate: string) => 'hold' | 'dead-letter';
  deadLetter: (row: EffectRow, error: string) => Promise<void>;
  /** Told about store failures the runner retries, and about the shard being lost (fenced). */
  onError: (error: unknown, where: string) => void;
  /** Queue rows read per round and kept in memory at most (default 1,000). */
  window?: number;
}

/** Pause after a wake-up before reading (ms), as the relays do. */
const LINGER_MS = 5;
/** How long one check that the shard is still owned serves (wall-clock ms). */
const OWNED_CHECK_MS = 200;
/** Longest back-off of a failing store operation. */
const MAX_STORE_BACKOFF_MS = 5_000;

class Stopped extends Error {}

export class ShardRunner {
  private readonly stopController = new AbortController();
  private readonly chains = new Map<string, EntityChain>();
  private readonly window: number;
  private cursor: string | undefined;
  private inFlight = 0;
  private loopDone: Promise<void> = Promise.resolve();
  private sleeper: { handle: unknown; resolve: () => void } | undefined;
  private woken = false;
  private refreshWanted = false;
  private lastRefresh = -Infinity;
  private readsStarted = 0;
  /** The last read that found the queue's end (fewer rows than it asked for). */
  private drainedRead = 0;
  private readonly idleWaiters: Array<{ after: number; resolve: () => void }> = [];
  private readonly pendingAcks: Array<{ row: EffectRow; resolve: () => void; reject: (e: unknown) => void }> =
    [];
  private ackScheduled = false;
  private checkedAt = -Infinity;
  private checking: Promise<void> | undefined;
  private readonly context: ChainContext;
  /** Set when the shard was lost (fenced): the runner stopped itself. */
  lost: unknown;

  constructor(private readonly config: ShardRunnerOptions) {
    this.window = config.window ?? 1_000;
    // Every running attempt and back-off listens to it: far more than the default warning's 10.
    setMaxListeners(0, this.stopController.signal);
    this.context = {
      shard: config.shard,
      options: config.options,
      limiter: config.limiter,
      timers: config.timers,
      clock: config.clock,
      stop: this.stopController.signal,
      stats: config.stats,
      policyOf: config.policyOf,
      deadLetter: config.deadLetter,
      store: (operation) => this.storeCall(operation),
      ack: (row) => this.ack(row),
      settled: (rows) => {
        this.inFlight -= rows;
        this.wake();
      },
      quiet: (chain) => {
        if (chain.mode === 'open' && chain.quiet) this.chains.delete(memberOf(chain.ref));
        this.checkIdle();
      },
      crashed: (error) => this.crash(error),
      confirmOwned: () => this.confirmOwned(),
    };
  }

  get shard(): number {
    return this.config.shard.shard;
  }

  start(): void {
    this.loopDone = this.loop().catch((error: unknown) => {
      if (!(error instanceof Stopped)) this.crash(error);
    });
  }

  /** New rows were committed (or an operator acted): look at the store now. */
  wake(refresh = false): void {
    if (refresh) this.refreshWanted = true;
    this.woken = true;
    if (this.sleeper) {
      this.config.timers.clearTimeout(this.sleeper.handle);
      this.sleeper.resolve();
    }
  }

  /** An operator retried or skipped the entity's failed effect in this process. */
  released(ref: EntityRef): void {
    const chain = this.chains.get(memberOf(ref));
    if (chain) chain.release();
    else this.wake(true);
  }

  /** Resolves once every row committed before the call ran, or sits in the failure log or a holding list. */
  idle(): Promise<void> {
    if (this.stopController.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.idleWaiters.push({ after: this.readsStarted, resolve });
      this.wake();
    });
  }

  /** Aborts running handlers, waits for them to settle and for the loop to end. */
  async stop(): Promise<void> {
    if (!this.stopController.signal.aborted) this.stopController.abort();
    this.wake();
    await this.loopDone;
    await Promise.all([...this.chains.values()].map((chain) => chain.settledWork()));
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  private async loop(): Promise<void> {
    const { shard, options } = this.config;
    await this.refresh();
    while (!this.stopController.signal.aborted) {
      this.woken = false;
      const room = this.window - this.inFlight;
      if (room > 0) {
        const read = (this.readsStarted += 1);
        const rows = await this.storeCall(() => shard.read(this.cursor, room));
        for (const row of rows) {
          this.cursor = row.id;
          this.inFlight += 1;
          this.chainOf(row.transition).offer(row);
        }
        if (rows.length < room) this.drainedRead = read;
        if (rows.length === room) continue;
      }
      if (this.refreshWanted || this.config.clock.now() - this.lastRefresh >= options.idlePollMs)
        await this.refresh();
      this.checkIdle();
      if (!this.woken) await this.sleep(options.idlePollMs);
      // Woken by a commit: give its neighbours a moment to land so one read carries them all (on
      // Redis a read per commit would cost more round trips than the effects themselves).
      await abortableDelay(this.config.timers, this.stopController.signal, LINGER_MS);
    }
  }

  /** Reads which entities are failed or holding effects, and lets the chains follow. */
  private async refresh(): Promise<void> {
    this.refreshWanted = false;
    this.lastRefresh = this.config.clock.now();
    const blocked = await this.storeCall(() => this.config.shard.blocked());
    const failed = new Set(blocked.failed.map(memberOf));
    for (const ref of blocked.failed) {
      const member = memberOf(ref);
      if (!this.chains.has(member)) this.chains.set(member, new EntityChain(ref, this.context, 'failed'));
    }
    for (const ref of blocked.holding) {
      const chain = this.chains.get(memberOf(ref));
      if (chain) chain.release();
      else {
        const fresh = new EntityChain(ref, this.context, 'failed');
        this.chains.set(memberOf(ref), fresh);
        fresh.release();
      }
    }
    // Failed here, but no longer in the log: an operator of another process retried or skipped it.
    for (const [member, chain] of this.chains)
      if (chain.mode === 'failed' && !failed.has(member)) chain.release();
  }

  private chainOf(ref: EntityRef): EntityChain {
    const member = memberOf(ref);
    let chain = this.chains.get(member);
    if (!chain) {
      chain = new EntityChain({ aggregate: ref.aggregate, key: ref.key }, this.context);
      this.chains.set(member, chain);
    }
    return chain;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    for (const chain of this.chains.values()) if (!chain.quiet) return;
    if (this.inFlight > 0) return;
    for (let i = this.idleWaiters.length - 1; i >= 0; i -= 1) {
      const waiter = this.idleWaiters[i] as { after: number; resolve: () => void };
      if (this.drainedRead > waiter.after) {
        this.idleWaiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }

  /**
   * Before a handler runs: the shard's claim still stands (fenced stores only). One check serves
   * every attempt for OWNED_CHECK_MS of wall-clock time, measured from when it was sent, so a
   * member resumed after a pause (its clock jumped) checks again before running anything.
   */
  private confirmOwned(): Promise<void> | undefined {
    const { shard } = this.config;
    if (!shard.stillOwned || Date.now() - this.checkedAt < OWNED_CHECK_MS) return undefined;
    this.checking ??= (async () => {
      const sent = Date.now();
      const owned = await this.storeCall(() => (shard.stillOwned as () => Promise<boolean>)());
      if (!owned) {
        this.crash(
          new ShardFencedError(
            shard.shard,
            `shard ${shard.shard} was claimed by another member; its effects are not run here`,
          ),
        );
        throw new Stopped('fenced');
      }
      this.checkedAt = sent;
    })().finally(() => (this.checking = undefined));
    return this.checking;
  }

  /** Acknowledgements of one turn of the event loop go to the store in one call. */
  private ack(row: EffectRow): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.pendingAcks.push({ row, resolve, reject });
      if (this.ackScheduled) return;
      this.ackScheduled = true;
      setImmediate(() => {
        this.ackScheduled = false;
        const batch = this.pendingAcks.splice(0);
        this.storeCall(() => this.config.shard.ack(batch.map((item) => item.row))).then(
          () => batch.forEach((item) => item.resolve()),
          (error: unknown) => batch.forEach((item) => item.reject(error)),
        );
      });
    });
  }

  /** A store operation, tried again with back-off until it succeeds; a fenced shard stops the runner. */
  private async storeCall<TResult>(operation: () => Promise<TResult>): Promise<TResult> {
    for (let attempt = 0; ; attempt += 1) {
      if (this.stopController.signal.aborted) throw new Stopped('stopped');
      try {
        return await operation();
      } catch (error) {
        if (findCause(error, (cause) => cause instanceof ShardFencedError)) {
          this.crash(error);
          throw new Stopped('fenced');
        }
        this.config.onError(error, `effects of shard ${this.shard}`);
        await abortableDelay(
          this.config.timers,
          this.stopController.signal,
          Math.min(MAX_STORE_BACKOFF_MS, 100 * 2 ** attempt),
        );
      }
    }
  }

  private crash(error: unknown): void {
    if (this.stopController.signal.aborted) return;
    this.lost = error;
    this.config.onError(error, `effects of shard ${this.shard} stopped`);
    this.stopController.abort();
    this.wake();
    for (const waiter of this.idleWaiters.splice(0)) waiter.resolve();
  }

  /** The loop's idle wait, cut short by wake(). */
  private sleep(ms: number): Promise<void> {
    if (this.stopController.signal.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const handle = this.config.timers.setTimeout(() => {
        this.sleeper = undefined;
        resolve();
      }, ms);
      this.sleeper = {
        handle,
        resolve: () => {
          this.sleeper = undefined;
          resolve();
        },
      };
    });
  }
}

function memberOf(ref: EntityRef): string {
  return `${ref.aggregate}\u0000${ref.key}`;
}
