/** At most `limit` holders at a time; the others wait in arrival order. */
export class Limiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  /** Undefined when a slot was free (taken at once, no promise to wait on); else resolves with one. */
  acquire(): Promise<void> | undefined {
    if (this.active < this.limit) {
      this.active += 1;
      return undefined;
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  release(): void {
    const next = this.waiting.shift();
    // The slot passes straight to the next waiter: `active` stays the same.
    if (next) next();
    else this.active -= 1;
  }
}
