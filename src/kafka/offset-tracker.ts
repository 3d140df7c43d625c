/**
 * The offsets of one batch: records are decided concurrently (different keys) but an offset may
 * only be resolved once it and every offset before it are durably decided. The tracker keeps
 * "decided" apart from "resolved" and hands out the highest offset that became resolvable.
 * (Committing resolved offsets to Kafka is the consumer's job; see batch-handler.ts.)
 */
export class OffsetTracker {
  private readonly offsets: string[] = [];
  private readonly decided: boolean[] = [];
  /** Index of the first tracked offset not yet resolved. */
  private head = 0;
  private lastResolved: string | undefined;

  /** Registers the next record of the batch (in batch order); returns its ticket. */
  track(offset: string): number {
    this.offsets.push(offset);
    this.decided.push(false);
    return this.offsets.length - 1;
  }

  /** Marks a record durably decided. */
  complete(ticket: number): void {
    this.decided[ticket] = true;
  }

  /**
   * The highest offset whose record and all earlier ones are decided, if that moved since the last
   * call; the caller resolves it. Undefined when nothing new became resolvable.
   */
  advance(): string | undefined {
    const start = this.head;
    while (this.head < this.offsets.length && this.decided[this.head] === true) this.head += 1;
    if (this.head === start) return undefined;
    this.lastResolved = this.offsets[this.head - 1];
    return this.lastResolved;
  }

  /** The last offset handed out by `advance`, if any. */
  get resolved(): string | undefined {
    return this.lastResolved;
  }

  /** Tracked records not yet resolved. */
  get unresolved(): number {
    return this.offsets.length - this.head;
  }
}
