/**
 * Runs the stall policies on wall-clock time, so an entity stalls even when no further traffic
 * arrives for it. The timer is unref'd: it never keeps the process alive on its own.
 */
export class StallSweeper {
  private readonly timer: NodeJS.Timeout;
  private running = false;

  constructor(intervalMs: number, sweep: () => Promise<unknown>) {
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = true;
      sweep()
        .catch((error: unknown) => process.emitWarning(`gatekeeper stall sweep failed: ${String(error)}`))
        .finally(() => {
          this.running = false;
        });
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
