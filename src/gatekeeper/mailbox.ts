/**
 * Per-key mailboxes: work for one key runs strictly one at a time in arrival order; work for
 * different keys runs concurrently. A key's chain is dropped as soon as it is empty.
 */
export class Mailboxes {
  private readonly tails = new Map<string, Promise<unknown>>();

  /** Runs `task` after every earlier task of `key` has settled (whether it succeeded or not). */
  run<TResult>(key: string, task: () => Promise<TResult>): Promise<TResult> {
    const previous = this.tails.get(key);
    const next = previous === undefined ? task() : previous.then(task, task);
    this.tails.set(key, next);
    const release = () => {
      if (this.tails.get(key) === next) this.tails.delete(key);
    };
    next.then(release, release);
    return next;
  }

  isBusy(key: string): boolean {
    return this.tails.has(key);
  }

  /** Resolves when every task queued so far has settled. */
  async idle(): Promise<void> {
    while (this.tails.size > 0) await Promise.allSettled([...this.tails.values()]);
  }

  get size(): number {
    return this.tails.size;
  }
}
