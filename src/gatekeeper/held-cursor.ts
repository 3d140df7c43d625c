/**
 * The cursor of a held entity: its stored snapshot cannot be restored by this process, so it
 * only reports where the snapshot says the entity is. It never moves: a held entity's events
 * are buffered (see core/attention.ts), so the rules never ask it to take one.
 */
import type { MachineCursor, StepResult } from '../core/entity.ts';
import type { StateValue } from '../core/outcome.ts';
import type { PersistedSnapshot } from '../core/snapshot.ts';

export class HeldCursor implements MachineCursor {
  constructor(private readonly stored: PersistedSnapshot | undefined) {}

  value(): StateValue {
    const value = this.stored?.value;
    return typeof value === 'string' || (typeof value === 'object' && value !== null)
      ? (value as StateValue)
      : 'unknown';
  }

  context(): unknown {
    return this.stored?.context;
  }

  done(): boolean {
    return false;
  }

  can(): boolean {
    return false;
  }

  step(): StepResult {
    return 'not-enabled';
  }

  persistLater(): () => PersistedSnapshot {
    const stored = this.stored ?? {};
    return () => stored;
  }

  stop(): void {
    // Nothing runs.
  }
}
