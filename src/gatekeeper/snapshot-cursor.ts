/**
 * A MachineCursor that holds only the entity's machine snapshot and moves it with the machine's
 * own `transition(snapshot, event, scope)`, the step a live actor runs inside `send`. One inert
 * actor scope is shared by every entity of a machine, so an entity costs a snapshot, not an actor
 * with its own system, mailbox and observers (see README, "Per-entity state").
 */
import { createActor, type AnyMachineSnapshot, type AnyStateMachine, type Snapshot } from 'xstate';
import type { MachineCursor, StepResult } from '../core/entity.ts';
import { messageOf } from '../core/errors.ts';
import type { StateValue } from '../core/outcome.ts';
import type { PersistedSnapshot } from '../store/entity-store.ts';

export class SnapshotCursor implements MachineCursor {
  private current: AnyMachineSnapshot;
  private readonly scope: MachineScope;

  constructor(
    private readonly machine: AnyStateMachine,
    persisted: PersistedSnapshot | undefined,
  ) {
    this.scope = scopeFor(machine);
    this.current = this.scope.run(() =>
      persisted === undefined
        ? machine.getInitialSnapshot(this.scope.actorScope)
        : machine.restoreSnapshot(persisted as unknown as Snapshot<unknown>, this.scope.actorScope),
    ) as AnyMachineSnapshot;
  }

  value(): StateValue {
    return this.current.value as StateValue;
  }

  context(): unknown {
    return this.current.context;
  }

  done(): boolean {
    return this.current.status === 'done';
  }

  can(event: { type: string }): boolean {
    return this.current.can(event);
  }

  step(event: { type: string }): StepResult {
    let next: AnyMachineSnapshot;
    try {
      next = this.scope.run(() =>
        this.machine.transition(this.current, event, this.scope.actorScope),
      ) as AnyMachineSnapshot;
    } catch (error) {
      return { error: messageOf(error) };
    }
    if (next.status === 'error') return { error: messageOf(next.error) };
    // XState hands back the same snapshot when no transition was enabled; a legal transition
    // whose actions changed nothing (a logging action) does too, and only `can` tells them apart.
    if (next === this.current) return this.current.can(event) ? 'moved' : 'not-enabled';
    this.current = next;
    return 'moved';
  }

  persistLater(): () => PersistedSnapshot {
    return persistLater(this.machine, this.current);
  }

  stop(): void {
    // Nothing runs between events: no timers, children or subscriptions to release.
  }
}

/** Captures a snapshot now and serialises it only when called (snapshots are immutable). */
export function persistLater(
  machine: AnyStateMachine,
  snapshot: AnyMachineSnapshot,
): () => PersistedSnapshot {
  let persisted: PersistedSnapshot | undefined;
  return () => (persisted ??= machine.getPersistedSnapshot(snapshot) as PersistedSnapshot);
}

/**
 * The scope a machine's transitions run in. Actions run as they would in a started actor: a
 * custom action executes during the transition, and deferred work runs right after it.
 */
type MachineActorScope = Parameters<AnyStateMachine['transition']>[2];

class MachineScope {
  readonly actorScope: MachineActorScope;
  private readonly deferred: (() => void)[] = [];

  constructor(machine: AnyStateMachine) {
    const self = createActor(machine);
    this.actorScope = {
      self,
      id: self.id,
      sessionId: self.sessionId,
      logger: self.system._logger,
      system: self.system,
      defer: (fn) => this.deferred.push(fn),
      emit: () => undefined,
      stopChild: () => undefined,
      actionExecutor: (action) => action.exec?.(action.info, action.params),
    };
  }

  run<T>(step: () => T): T {
    try {
      const result = step();
      for (let fn = this.deferred.shift(); fn; fn = this.deferred.shift()) fn();
      return result;
    } finally {
      this.deferred.length = 0;
    }
  }
}

const scopes = new WeakMap<AnyStateMachine, MachineScope>();

function scopeFor(machine: AnyStateMachine): MachineScope {
  let scope = scopes.get(machine);
  if (!scope) {
    scope = new MachineScope(machine);
    scopes.set(machine, scope);
  }
  return scope;
}
