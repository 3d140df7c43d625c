/**
 * Subscribers to what the gatekeeper decides. A throwing listener is isolated so it can never
 * undo or block a decision that is already committed.
 */
import type { AttentionEntry } from '../core/attention.ts';
import type { AppliedTransition, DeadLetter, Outcome } from '../core/outcome.ts';

export interface GatekeeperListener {
  /** Every outcome, in decision order. */
  onOutcome?(outcome: Outcome): void;
  /** Every applied transition, in per-entity order. */
  onTransition?(transition: AppliedTransition): void;
  /** Every rejected event with its reason (the dead-letter output). */
  onRejected?(letter: DeadLetter): void;
  /**
   * An entity was held: its snapshot cannot be decided by this process (another machine version,
   * corrupt bytes, a failed migration, an aggregate only another member knows). Its events wait.
   */
  onHeld?(entity: AttentionEntry): void;
  /** Called when a listener above throws; the default writes to stderr. */
  onListenerError?(error: unknown): void;
}

export class Listeners {
  private readonly listeners = new Set<GatekeeperListener>();

  add(listener: GatekeeperListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  emit(
    outcomes: readonly Outcome[],
    transitions: readonly AppliedTransition[],
    letters: readonly DeadLetter[],
    held?: AttentionEntry,
  ): void {
    for (const listener of this.listeners) {
      try {
        if (listener.onOutcome) for (const outcome of outcomes) listener.onOutcome(outcome);
        if (listener.onTransition) for (const transition of transitions) listener.onTransition(transition);
        if (listener.onRejected) for (const letter of letters) listener.onRejected(letter);
        if (held && listener.onHeld) listener.onHeld(held);
      } catch (error) {
        if (listener.onListenerError) listener.onListenerError(error);
        else process.emitWarning(`gatekeeper listener threw: ${String(error)}`);
      }
    }
  }
}
