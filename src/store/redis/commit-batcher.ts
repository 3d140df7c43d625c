/**
 * Group commit: decisions committed in the same turn of the event loop are sent as one script
 * call per shard instead of one each. Each decision keeps its own version check and its own
 * answer; only the client work and the script calls are shared. Per-key order is untouched: a
 * key's next decision starts only after its previous commit was answered, so one batch never
 * holds two decisions of one entity.
 */

import type { CommitResult } from '../entity-store.ts';

/** One decision waiting for its batch: its two entity keys, its script arguments, its answer. */
export interface PendingCommit {
  stateKey: string;
  historyKey: string;
  args: readonly string[];
  resolve: (result: CommitResult) => void;
  reject: (error: unknown) => void;
}

/**
 * Collects items per shard until the next `setImmediate` (or until a shard holds `maxBatch`) and
 * hands each shard's batch to `send`. Commits use it, and so do loads (one script call for a
 * turn's loads of one shard).
 */
export class CommitBatcher<TItem = PendingCommit> {
  private readonly pending = new Map<number, TItem[]>();
  private scheduled = false;

  /**
   * @param send sends one shard's batch and settles every commit in it
   * @param maxBatch decisions per script call: bounds how long one call holds Redis
   */
  constructor(
    private readonly send: (shard: number, batch: TItem[]) => void,
    private readonly maxBatch: number,
  ) {}

  add(shard: number, commit: TItem): void {
    let batch = this.pending.get(shard);
    if (!batch) {
      batch = [];
      this.pending.set(shard, batch);
    }
    batch.push(commit);
    if (batch.length >= this.maxBatch) {
      this.pending.delete(shard);
      this.send(shard, batch);
      return;
    }
    if (!this.scheduled) {
      this.scheduled = true;
      // After I/O callbacks and their promise continuations: every decision that a burst of
      // replies set off has made its commit by then and rides in the same batch.
      setImmediate(() => this.flush());
    }
  }

  /** Sends everything waiting now. */
  flush(): void {
    this.scheduled = false;
    for (const [shard, batch] of this.pending) this.send(shard, batch);
    this.pending.clear();
  }
}
