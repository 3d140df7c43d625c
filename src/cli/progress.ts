/**
 * A one-line progress display for long runs (events/s and outcome counts), redrawn in place on a
 * terminal and silent otherwise.
 */
import type { OutcomeKind } from '../core/outcome.ts';

export class Progress {
  private readonly counts: Record<OutcomeKind, number> = {
    applied: 0,
    buffered: 0,
    discarded: 0,
    rejected: 0,
  };
  private events = 0;
  private readonly started = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly enabled: boolean,
    private readonly total?: number,
  ) {
    if (enabled) {
      this.timer = setInterval(() => this.draw(), 250);
      this.timer.unref();
    }
  }

  event(): void {
    this.events += 1;
  }

  outcome(kind: OutcomeKind): void {
    this.counts[kind] += 1;
  }

  stop(): void {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
    this.draw();
    this.stream.write('\n');
  }

  private draw(): void {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = Math.round(this.events / Math.max(seconds, 0.001));
    const done = this.total ? ` ${Math.floor((this.events / this.total) * 100)}%` : '';
    const { applied, buffered, discarded, rejected } = this.counts;
    this.stream.write(
      `\r\u001b[K${this.events.toLocaleString('en-US')} events${done} · ${rate.toLocaleString('en-US')}/s · applied ${applied} · buffered ${buffered} · discarded ${discarded} · rejected ${rejected}`,
    );
  }
}
