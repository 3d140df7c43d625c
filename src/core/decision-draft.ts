/**
 * A decision in progress: the entity's rule state as the rules move it (sequence, buffer, parked
 * event, hold), and the record they build (outcomes, dead letters, the buffer and seen-id deltas a
 * store writes). The rules (decide.ts, event-turn.ts, drain.ts, operator- and sweeper-decisions.ts)
 * change the fields below and record through the methods; `finish()` turns it into a Decision.
 */
import type { HeldMark } from './attention.ts';
import type { Decision, DecisionContext } from './decision.ts';
import {
  bufferPosition,
  slideSeenWindow,
  type BufferedEvent,
  type EntityState,
  type ParkedEvent,
} from './entity.ts';
import type { EventEnvelope } from './envelope.ts';
import { makeOutcome } from './make-outcome.ts';
import type {
  AppliedTransition,
  DeadLetter,
  InputSource,
  Outcome,
  OutcomeKind,
  ReasonOf,
} from './outcome.ts';
import type { TimeMark } from './time-order.ts';

export class DecisionDraft {
  readonly outcomes: Outcome[] = [];
  readonly applied: AppliedTransition[] = [];
  // Most decisions touch none of these: they start as the shared empty array and are replaced on
  // first write, which saves four allocations on the hot path.
  private deadLetters: DeadLetter[] = NONE;
  private bufferAdded: BufferedEvent[] = NONE;
  private bufferRemoved: string[] = NONE;
  private seenAdded: string[] = NONE;
  private buffer: BufferedEvent[] | undefined;
  lastSeq: number;
  lastTime: TimeMark | undefined;
  /** Changed only through setParked(), so the store learns it changed. */
  parked: ParkedEvent | undefined;
  private parkedChanged = false;
  held: HeldMark | undefined;
  moved = false;
  /** The event that arrived (none for operator actions and the sweeper), and where it came from. */
  arriving: EventEnvelope | undefined;
  arrivalSource: InputSource | undefined;

  constructor(
    readonly context: DecisionContext,
    /** The entity as loaded: never changed, the new state is built beside it. */
    readonly entity: EntityState,
  ) {
    this.lastSeq = entity.lastSeq;
    this.lastTime = entity.lastTime;
    this.parked = entity.parked;
    this.held = context.hold ?? entity.held;
  }

  finish(): Decision {
    return {
      outcomes: this.outcomes,
      entity: {
        lastSeq: this.lastSeq,
        buffer: this.buffer ?? this.entity.buffer,
        seenIds: this.nextSeenIds(),
        parked: this.parked,
        held: this.held,
        lastTime: this.lastTime,
      },
      applied: this.applied,
      deadLetters: this.deadLetters,
      bufferAdded: this.bufferAdded,
      bufferRemoved: this.bufferRemoved,
      seenAdded: this.seenAdded,
      parkedChanged: this.parkedChanged,
      heldChanged: this.held !== this.entity.held,
      moved: this.moved,
    };
  }

  /** Records a buffered or discarded outcome. */
  settle(
    event: EventEnvelope,
    outcome: Exclude<OutcomeKind, 'applied' | 'rejected'>,
    reason: ReasonOf<'buffered'> | ReasonOf<'discarded'>,
    fromBuffer: boolean,
    detail?: string,
  ): void {
    this.record(makeOutcome(event, outcome, reason, this.context.cursor.value(), fromBuffer, detail));
  }

  /** Records a rejected outcome and its dead letter. */
  reject(
    event: EventEnvelope,
    reason: ReasonOf<'rejected'>,
    fromBuffer: boolean,
    detail: string,
    parked = false,
  ): void {
    const outcome = makeOutcome(event, 'rejected', reason, this.context.cursor.value(), fromBuffer, detail);
    if (parked) outcome.parked = true;
    this.record(outcome);
    (this.deadLetters = writable(this.deadLetters)).push(
      withSource(
        { reason, detail, at: this.context.now, event, aggregate: event.aggregate, key: event.key },
        this.sourceOf(event),
      ),
    );
  }

  /** Where an event came from: the arriving one's source, or what its buffer or parked entry kept. */
  sourceOf(event: EventEnvelope): InputSource | undefined {
    if (event === this.arriving) return this.arrivalSource;
    // Rejections are rare: a scan of the entity as loaded (every other event was waiting there) is fine.
    if (this.entity.parked?.event === event) return this.entity.parked.source;
    return this.entity.buffer.find((entry) => entry.event === event)?.source;
  }

  record(outcome: Outcome): void {
    // Only unsequenced ids need remembering: a sequenced duplicate is caught by its seq (at or below
    // lastSeq, or equal to a waiting one), which keeps the per-event cost flat.
    if (!outcome.fromBuffer && outcome.seq === null && outcome.id !== null)
      (this.seenAdded = writable(this.seenAdded)).push(outcome.id);
    this.outcomes.push(outcome);
  }

  markLastOutcomeParked(): void {
    const last = this.outcomes[this.outcomes.length - 1];
    if (last) last.parked = true;
  }

  setParked(parked: ParkedEvent | undefined): void {
    this.parked = parked;
    this.parkedChanged = true;
  }

  currentBuffer(): readonly BufferedEvent[] {
    return this.buffer ?? this.entity.buffer;
  }

  addToBuffer(entry: BufferedEvent): void {
    const buffer = (this.buffer ??= [...this.entity.buffer]);
    buffer.splice(bufferPosition(buffer, entry.event.seq), 0, entry);
    (this.bufferAdded = writable(this.bufferAdded)).push(entry);
  }

  removeFromBuffer(entry: BufferedEvent): void {
    const buffer = (this.buffer ??= [...this.entity.buffer]);
    const at = buffer.indexOf(entry);
    if (at !== -1) buffer.splice(at, 1);
    const added = this.bufferAdded.indexOf(entry);
    if (added !== -1) this.bufferAdded.splice(added, 1);
    else (this.bufferRemoved = writable(this.bufferRemoved)).push(entry.event.id);
  }

  private nextSeenIds(): readonly string[] {
    return slideSeenWindow(this.entity.seenIds, this.seenAdded, this.context.dedupWindow);
  }
}

/** Adds `source` only when there is one, so stored entries carry no empty field. */
export function withSource<TEntry extends object>(entry: TEntry, source: InputSource | undefined): TEntry {
  return source === undefined ? entry : { ...entry, source };
}

/** The shared empty list (frozen: a write to it would throw, never corrupt). */
const NONE = Object.freeze([]) as unknown as never[];

function writable<T>(list: T[]): T[] {
  return (list as unknown) === NONE ? [] : list;
}
