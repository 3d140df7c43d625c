/**
 * A relay moves rows from one of the store's queues (the outbox, the dead letters) to a Kafka
 * topic: read the oldest rows, produce them, and only then acknowledge them in the store. A crash
 * between produce and acknowledge publishes those rows again after the restart (at-least-once;
 * consumers drop the duplicate by its identity header). A failing store or broker is retried with
 * back-off, forever, until the relay is stopped.
 *
 * Per-entity order: rows of one entity are read oldest first and produced in one awaited send at a
 * time, so they reach their partition in order. Two processes' relays may publish the same rows;
 * the first copy of each row still arrives in order, so "keep the first copy of each identity"
 * restores the exact sequence.
 */
import type { QueuedItem } from '../store/entity-store.ts';
import type { MetricsSink, RelayKind } from './metrics.ts';
import { crashPoint } from './crash-points.ts';
import { within } from './within.ts';

export interface RelayOptions<TValue> {
  kind: RelayKind;
  read(limit: number): Promise<QueuedItem<TValue>[]>;
  ack(ids: readonly string[]): Promise<void>;
  /** Produces the rows; resolves once the broker acknowledged all of them. */
  publish(rows: readonly QueuedItem<TValue>[]): Promise<void>;
  batchSize: number;
  idleMs: number;
  /** Pause after a wake-up before reading, so one round carries a burst of decisions (default 5 ms). */
  lingerMs?: number;
  maxBackoffMs: number;
  metrics: MetricsSink;
  /** Told about every failed round (the relay retries it with back-off). */
  onError?(error: unknown): void;
  /** The input partition whose rows this relay publishes (one relay per owned partition on Redis). */
  partition?: number;
}

export class Relay<TValue> {
  private running = false;
  private loopDone: Promise<void> = Promise.resolve();
  private sleeper: { timer: NodeJS.Timeout; resolve: () => void } | undefined;
  private woken = false;
  private published = 0;
  private active = true;

  constructor(private readonly options: RelayOptions<TValue>) {}

  /** Starts the background loop. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loopDone = this.loop();
  }

  /** Tells the relay there is new work (skips its idle wait). */
  wake(): void {
    this.woken = true;
    this.interruptSleep();
  }

  /**
   * An inactive relay publishes nothing and leaves the rows to the active relay of another process
   * sharing the store (see runner.ts: one relay per consumer group publishes).
   */
  setActive(active: boolean): void {
    if (this.active === active) return;
    this.active = active;
    this.wake();
  }

  get isActive(): boolean {
    return this.active;
  }

  /** Rows published since the relay was created. */
  get total(): number {
    return this.published;
  }

  /**
   * Stops the loop, then publishes what is left until the queue is empty, a round fails, or
   * `timeoutMs` passed — a round still waiting on the broker at the deadline is left behind, so
   * this always settles in time. Resolves true when the queue was seen empty.
   */
  async stop(timeoutMs: number): Promise<boolean> {
    this.running = false;
    this.interruptSleep();
    const deadline = Date.now() + timeoutMs;
    if (
      (await within(
        this.loopDone.then(() => true),
        timeoutMs,
      )) === undefined
    )
      return false;
    if (!this.active) return true; // the active relay elsewhere publishes the rest
    while (Date.now() < deadline) {
      const moved = await within(
        this.round().catch((error: unknown) => {
          this.options.metrics.retry(`${this.options.kind} relay (stopping)`, error);
          this.options.onError?.(error);
          return -1;
        }),
        deadline - Date.now(),
      );
      if (moved === undefined || moved < 0) return false;
      if (moved === 0) return true;
    }
    return false;
  }

  /** One read → produce → acknowledge round; the number of rows moved. */
  async round(): Promise<number> {
    const rows = await this.options.read(this.options.batchSize);
    const { kind, partition, metrics } = this.options;
    if (partition === undefined) metrics.backlog(kind, rows.length);
    else metrics.partitionBacklog(kind, partition, rows.length);
    if (rows.length === 0) return 0;
    crashPoint('before-publish');
    await this.options.publish(rows);
    await this.options.ack(rows.map((row) => row.id));
    this.published += rows.length;
    metrics.published(kind, rows.length, partition);
    return rows.length;
  }

  private async loop(): Promise<void> {
    let backoff = 0;
    while (this.running) {
      this.woken = false;
      if (!this.active) {
        await this.sleep(this.options.idleMs);
        continue;
      }
      try {
        const moved = await this.round();
        backoff = 0;
        if (moved >= this.options.batchSize) continue;
        if (!this.woken) await this.sleep(this.options.idleMs);
        // Woken by a decision: give its neighbours a moment to land so one round carries them all.
        // (Not interruptible by wake(): later wake-ups are exactly what it waits for.)
        if (this.running) await new Promise((resolve) => setTimeout(resolve, this.options.lingerMs ?? 5));
      } catch (error) {
        this.options.metrics.retry(`${this.options.kind} relay`, error);
        this.options.onError?.(error);
        backoff = Math.min(this.options.maxBackoffMs, backoff === 0 ? 100 : backoff * 2);
        await this.sleep(backoff);
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.sleeper = { timer: setTimeout(resolve, ms), resolve };
    }).then(() => {
      this.sleeper = undefined;
    });
  }

  private interruptSleep(): void {
    if (!this.sleeper) return;
    clearTimeout(this.sleeper.timer);
    this.sleeper.resolve();
  }
}
