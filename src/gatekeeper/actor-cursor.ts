/**
 * A MachineCursor backed by a live XState actor, used when an inspector is attached: Stately's
 * inspection events come from actors. Otherwise entities use the lighter SnapshotCursor.
 */
import {
  createActor,
  type AnyActorRef,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type InspectionEvent,
  type Observer,
  type Snapshot,
} from 'xstate';
import type { MachineCursor, StepResult } from '../core/entity.ts';
import { messageOf } from '../core/errors.ts';
import type { StateValue } from '../core/outcome.ts';
import type { PersistedSnapshot } from '../store/entity-store.ts';
import { persistLater } from './snapshot-cursor.ts';

/** Receives XState inspection events (e.g. `@statelyai/inspect`'s `inspector.inspect`). */
export type ActorInspector = Observer<InspectionEvent> | ((event: InspectionEvent) => void);

export class ActorCursor implements MachineCursor {
  private actor: AnyActorRef;

  constructor(
    private readonly machine: AnyStateMachine,
    snapshot: PersistedSnapshot | undefined,
    private readonly inspect?: ActorInspector,
  ) {
    this.actor = this.start(snapshot);
    // A snapshot the machine cannot restore leaves the actor in error instead of throwing; the
    // load path needs the throw to hold the entity (see hydrate.ts), as SnapshotCursor gives it.
    const started = this.snapshot();
    if (started.status === 'error') {
      this.actor.stop();
      throw new Error(messageOf(started.error));
    }
  }

  value(): StateValue {
    return this.snapshot().value as StateValue;
  }

  context(): unknown {
    return this.snapshot().context;
  }

  done(): boolean {
    return this.snapshot().status === 'done';
  }

  can(event: { type: string }): boolean {
    return this.snapshot().can(event);
  }

  step(event: { type: string }): StepResult {
    // A live actor cannot try an event and take it back, so it asks first.
    if (!this.can(event)) return 'not-enabled';
    const before = this.snapshot();
    this.actor.send(event);
    const after = this.snapshot();
    if (after.status !== 'error') return 'moved';
    // The actor is dead after a throwing action; resume from the snapshot before the event.
    this.actor.stop();
    this.actor = this.start(this.machine.getPersistedSnapshot(before));
    return { error: messageOf(after.error) };
  }

  persistLater(): () => PersistedSnapshot {
    return persistLater(this.machine, this.snapshot());
  }

  stop(): void {
    this.actor.stop();
  }

  private snapshot(): AnyMachineSnapshot {
    return this.actor.getSnapshot() as AnyMachineSnapshot;
  }

  private start(snapshot: PersistedSnapshot | undefined): AnyActorRef {
    const actor = createActor(this.machine, {
      ...(snapshot === undefined ? {} : { snapshot: snapshot as unknown as Snapshot<unknown> }),
      ...(this.inspect === undefined ? {} : { inspect: this.inspect }),
    });
    // Without an error observer XState rethrows machine errors asynchronously and kills the process.
    actor.subscribe({ error: () => undefined });
    actor.start();
    return actor;
  }
}
