/**
 * The decision rules: given one entity, its machine cursor and one event, decide applied /
 * buffered / discarded / rejected, then drain the buffer. Pure apart from moving the cursor,
 * which the caller throws away when the decision is not committed.
 */
import { toMachineEvent, type EventEnvelope } from './envelope.ts';
import { checkTypeAndPayload } from './event-checks.ts';
import { describeValue, makeOutcome } from './make-outcome.ts';
import type { Aggregate } from './aggregate.ts';
import type { HeldMark } from './attention.ts';
import {
  bufferPosition,
  slideSeenWindow,
  type BufferedEvent,
  type EntityState,
  type MachineCursor,
  type ParkedEvent,
} from './entity.ts';
import {
  futureTimeDetail,
  isStaleTime,
  isTimed,
  lastTimeAfter,
  markOf,
  staleTimeDetail,
  unsequencedInTurnOrder,
  type TimedEvent,
  type TimeMark,
} from './time-order.ts';
import type {
  AppliedTransition,
  DeadLetter,
  InputSource,
  Outcome,
  OutcomeKind,
  ReasonOf,
} from './outcome.ts';

/** Inputs that do not change during one decision. */
export interface DecisionContext {
  aggregate: Aggregate;
  cursor: MachineCursor;
  now: number;
  /** How many recent event ids each entity remembers for deduplication. */
  dedupWindow: number;
  /**
   * Set when the entity is held (its snapshot cannot be decided by this process): the decision
   * buffers what arrives and records the mark when the entity does not carry it yet.
   */
  hold?: HeldMark | undefined;
}

/** Everything one decision changed, as the new state plus the deltas a store needs to write. */
export interface Decision {
  outcomes: Outcome[];
  entity: EntityState;
  applied: AppliedTransition[];
  deadLetters: DeadLetter[];
  bufferAdded: BufferedEvent[];
  /** Ids of events that left the buffer (applied, discarded or rejected from it). */
  bufferRemoved: string[];
  seenAdded: string[];
  parkedChanged: boolean;
  /** True when the entity's held mark was set, replaced or cleared. */
  heldChanged: boolean;
  /** True when the machine moved, so its snapshot must be persisted. */
  moved: boolean;
}

/**
 * Decides one incoming event (already a valid envelope of this aggregate). `source` says where it
 * came from; it is kept with the event if it waits and put on its dead letter if it is rejected.
 */
export function decide(
  context: DecisionContext,
  entity: EntityState,
  event: EventEnvelope,
  source?: InputSource,
): Decision {
  const draft = new DecisionDraft(context, entity);
  draft.arrive(event, source);
  return draft.finish();
}

/** Operator `retry`: try the parked event again (the machine or its context may have changed). */
export function decideRetry(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  draft.retryParked();
  return draft.finish();
}

/** Operator `skip`: move past the parked event and drain. */
export function decideSkip(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  draft.skipParked();
  return draft.finish();
}

/** Time mode's release, run by the sweeper: applies held events whose hold is over, in event-time order. */
export function decideRelease(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  draft.release();
  return draft.finish();
}

/** The stall policy, run by the sweeper for an entity whose oldest buffered event is too old. */
/**
 * Ends an entity's hold (after a migration, a compatible restore or an operator reset) and drains
 * what waited. The snapshot is always persisted: it is the one under the current machine version.
 * `lastSeq` replaces the entity's (an operator reset that also resets the sequence).
 */
export function decideResume(
  context: DecisionContext,
  entity: EntityState,
  options: { lastSeq?: number } = {},
): Decision {
  const draft = new DecisionDraft({ ...context, hold: undefined }, entity);
  draft.resume(options.lastSeq);
  return draft.finish();
}

/**
 * Operator `skip` on a held entity: every buffered event is rejected as `operator-skipped` (so
 * each is reported on the dead-letter output, never silently dropped); the entity stays held.
 */
export function decideSkipHeld(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  draft.skipHeld();
  return draft.finish();
}

export function decideStall(context: DecisionContext, entity: EntityState): Decision {
  const draft = new DecisionDraft(context, entity);
  draft.stall();
  return draft.finish();
}

class DecisionDraft {
  private readonly outcomes: Outcome[] = [];
  private readonly applied: AppliedTransition[] = [];
  // Most decisions touch none of these: they start as the shared empty array and are replaced on
  // first write, which saves four allocations on the hot path.
  private deadLetters: DeadLetter[] = NONE;
  private bufferAdded: BufferedEvent[] = NONE;
  private bufferRemoved: string[] = NONE;
  private seenAdded: string[] = NONE;
  private buffer: BufferedEvent[] | undefined;
  private lastSeq: number;
  private lastTime: TimeMark | undefined;
  private parked: ParkedEvent | undefined;
  private parkedChanged = false;
  private held: HeldMark | undefined;
  private moved = false;
  /** The event that arrived (none for operator actions and the sweeper), and where it came from. */
  private arriving: EventEnvelope | undefined;
  private arrivalSource: InputSource | undefined;

  constructor(
    private readonly context: DecisionContext,
    private readonly entity: EntityState,
  ) {
    this.lastSeq = entity.lastSeq;
    this.lastTime = entity.lastTime;
    this.parked = entity.parked;
    this.held = context.hold ?? entity.held;
  }

  arrive(event: EventEnvelope, source: InputSource | undefined): void {
    this.arriving = event;
    this.arrivalSource = source;
    const duplicate = this.duplicateReason(event);
    if (duplicate) return this.settle(event, 'discarded', duplicate.reason, false, duplicate.detail);

    // A held entity's events are checked when its hold ends, by the machine version that decides
    // them (in a rolling deploy this process may not know a newer version's event types yet).
    if (this.held) return this.hold(event, 'entity-held', this.held.detail, true);

    const invalid = checkTypeAndPayload(this.context.aggregate, event);
    if (invalid) return this.rejectOnArrival(event, invalid.reason, invalid.detail);
    const timed = isTimed(event);
    if (timed) {
      const ahead = futureTimeDetail(event, this.context.now, this.context.aggregate.maxFutureMs);
      if (ahead !== undefined) return this.reject(event, 'future-time', false, ahead);
    }

    if (this.parked) return this.hold(event, 'entity-parked');
    if (event.seq !== undefined) {
      if (event.seq > this.lastSeq + 1) return this.hold(event, 'seq-gap');
      if (this.atTurn(event, false)) this.drain();
      return;
    }
    if (timed) return this.arriveTimed(event);
    this.arriveUnsequenced(event);
  }

  /** The sweeper's turn for an entity with held events: release those whose hold is over. */
  release(): void {
    this.drain();
  }

  resume(lastSeq: number | undefined): void {
    this.held = undefined;
    if (lastSeq !== undefined) this.lastSeq = lastSeq;
    this.moved = true;
    this.drain();
  }

  skipHeld(): void {
    for (const entry of [...this.currentBuffer()]) {
      this.removeFromBuffer(entry);
      if (entry.rejection) continue; // already reported when it arrived
      this.reject(
        entry.event,
        'operator-skipped',
        true,
        `an operator skipped the events held for ${this.context.aggregate.name}/${entry.event.key}`,
      );
    }
  }

  retryParked(): void {
    const parked = this.parked;
    if (!parked) return;
    this.setParked(undefined);
    if (this.atTurn(parked.event, true, 'operator-retry')) this.drain();
  }

  skipParked(): void {
    const parked = this.parked;
    if (!parked) return;
    this.setParked(undefined);
    if (parked.event.seq !== undefined) this.lastSeq = Math.max(this.lastSeq, parked.event.seq);
    this.drain();
  }

  stall(): void {
    const { onStall } = this.context.aggregate;
    if (onStall === 'keep' || this.parked || this.held) return;
    if (onStall === 'dead-letter') {
      for (const entry of [...this.currentBuffer()]) {
        this.removeFromBuffer(entry);
        if (entry.rejection) continue; // already reported when it arrived
        const age = this.context.now - entry.receivedAt;
        this.reject(
          entry.event,
          'stalled',
          true,
          `waited ${age} ms in the buffer, longer than ${this.context.aggregate.stallAfterMs} ms`,
        );
      }
      return;
    }
    const firstSequenced = this.currentBuffer().find((entry) => entry.event.seq !== undefined);
    if (firstSequenced?.event.seq !== undefined && firstSequenced.event.seq > this.lastSeq + 1) {
      this.lastSeq = firstSequenced.event.seq - 1;
      this.drain();
    }
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

  // --- arrival -------------------------------------------------------------------------------

  private duplicateReason(
    event: EventEnvelope,
  ): { reason: ReasonOf<'discarded'>; detail: string } | undefined {
    // Plain loops: this runs for every event, and closures per call showed in profiles.
    const buffer = this.currentBuffer();
    let waitingSameSeq = false;
    for (const entry of buffer) {
      if (entry.event.id === event.id) return duplicateId(event);
      if (event.seq !== undefined && entry.event.seq === event.seq) waitingSameSeq = true;
    }
    if (this.entity.seenIds.includes(event.id) || this.parked?.event.id === event.id)
      return duplicateId(event);
    if (event.seq === undefined) return undefined;
    if (event.seq <= this.lastSeq) {
      return {
        reason: 'stale-seq',
        detail: `seq ${event.seq} is not after the last applied seq ${this.lastSeq} (a duplicate or a late event)`,
      };
    }
    if (waitingSameSeq || this.parked?.event.seq === event.seq) {
      return { reason: 'duplicate-seq', detail: `another event with seq ${event.seq} is already waiting` };
    }
    return undefined;
  }

  /** A rejection on arrival of a sequenced event still occupies its seq, so the sequence can move past it. */
  private rejectOnArrival(event: EventEnvelope, reason: ReasonOf<'rejected'>, detail: string): void {
    this.reject(event, reason, false, detail);
    if (event.seq === undefined) return;
    if (event.seq === this.lastSeq + 1 && !this.parked && !this.held) {
      this.applyRejectionPolicy(event, reason, detail, false);
      return;
    }
    if (this.currentBuffer().length < this.context.aggregate.maxBuffered) {
      this.addToBuffer(
        withSource(
          { event, receivedAt: this.context.now, rejection: { reason, detail } },
          this.arrivalSource,
        ),
      );
    }
  }

  private arriveUnsequenced(event: EventEnvelope): void {
    const { cursor, aggregate } = this.context;
    if (cursor.done()) {
      return this.settle(
        event,
        'discarded',
        'entity-final',
        false,
        `the entity is in final state ${describeValue(cursor.value())}`,
      );
    }
    const moved = this.take(event, 'legal', false);
    if (moved !== undefined) {
      if (moved) this.drain();
      return;
    }
    const value = cursor.value();
    if (aggregate.topology.acceptsNow(value, event.type)) {
      return this.reject(
        event,
        'guard-refused',
        false,
        `a guard refused ${event.type} in state ${describeValue(value)}`,
      );
    }
    if (aggregate.topology.acceptsLater(value, event.type)) return this.hold(event, 'future-type');
    this.settle(
      event,
      'discarded',
      'unreachable-type',
      false,
      `${event.type} is accepted only by states no longer reachable from ${describeValue(value)}`,
    );
  }

  /**
   * Time mode: past is what is not after the last applied timed event. Without a hold the rest is
   * decided like any unsequenced event (last writer wins); with one it waits in the buffer and
   * the drain releases, in event-time order, whatever waited longer than the hold.
   */
  private arriveTimed(event: TimedEvent): void {
    if (isStaleTime(markOf(event), this.lastTime)) {
      const last = this.lastTime as TimeMark;
      this.settle(event, 'discarded', 'stale-time', false, staleTimeDetail(event, last));
    } else if (this.context.aggregate.holdMs === 0 || this.context.cursor.done()) {
      return this.arriveUnsequenced(event);
    } else {
      this.hold(event, 'time-hold');
    }
    if (this.context.aggregate.holdMs > 0) this.drain();
  }

  private hold(event: EventEnvelope, reason: ReasonOf<'buffered'>, detail?: string, unchecked = false): void {
    const { maxBuffered, name } = this.context.aggregate;
    // A held entity waits for an operator, not for its producer: its events are never rejected
    // for the buffer's size (the attention list and metrics show it instead).
    if (!unchecked && this.currentBuffer().length >= maxBuffered) {
      return this.reject(
        event,
        'buffer-full',
        false,
        `${name}/${event.key} already holds ${maxBuffered} buffered events`,
      );
    }
    const entry: BufferedEvent = unchecked
      ? { event, receivedAt: this.context.now, unchecked: true }
      : { event, receivedAt: this.context.now };
    this.addToBuffer(withSource(entry, this.arrivalSource));
    this.settle(event, 'buffered', reason, false, detail);
  }

  // --- the event's turn ----------------------------------------------------------------------

  /**
   * The event is next (its seq is lastSeq + 1, or an operator retries it). Applies it, or rejects it
   * under the aggregate's policy. Returns true when the sequence moved (so a drain is due).
   */
  private atTurn(event: EventEnvelope, fromBuffer: boolean, appliedReason?: ReasonOf<'applied'>): boolean {
    const { cursor, aggregate } = this.context;
    if (!cursor.done()) {
      const moved = this.take(event, appliedReason ?? (fromBuffer ? 'drained' : 'legal'), fromBuffer);
      if (moved !== undefined) return moved;
    }
    const value = cursor.value();
    const guardOnly = !cursor.done() && aggregate.topology.acceptsNow(value, event.type);
    const reason = guardOnly
      ? 'guard-refused'
      : event.seq !== undefined
        ? 'illegal-at-seq'
        : 'illegal-in-state';
    const where = cursor.done() ? `final state ${describeValue(value)}` : `state ${describeValue(value)}`;
    const detail = guardOnly
      ? `a guard refused ${event.type} in ${where}`
      : event.seq !== undefined
        ? `seq ${event.seq} is the next expected for ${aggregate.name}/${event.key}, but ${event.type} is not legal in ${where}`
        : `${event.type} is not legal in ${where}`;
    this.reject(event, reason, fromBuffer, detail, aggregate.onRejected === 'park');
    return this.applyRejectionPolicy(event, reason, detail, true);
  }

  /** `skip` moves the sequence past a rejected next event; `park` stops the entity on it. */
  private applyRejectionPolicy(
    event: EventEnvelope,
    reason: ReasonOf<'rejected'>,
    detail: string,
    reported: boolean,
  ): boolean {
    if (this.context.aggregate.onRejected === 'park') {
      this.setParked(withSource({ event, reason, detail, parkedAt: this.context.now }, this.sourceOf(event)));
      if (!reported) this.markLastOutcomeParked();
      return false;
    }
    if (event.seq === undefined) return false;
    this.lastSeq = Math.max(this.lastSeq, event.seq);
    return true;
  }

  /**
   * Applies the event if the machine takes it now: undefined when it is not legal in this state
   * (nothing changed), else true when the sequence moved (so a drain is due).
   */
  private take(event: EventEnvelope, reason: ReasonOf<'applied'>, fromBuffer: boolean): boolean | undefined {
    const { cursor } = this.context;
    const from = cursor.value();
    const step = cursor.step(toMachineEvent(event));
    if (step === 'not-enabled') return undefined;
    if (step !== 'moved') {
      this.reject(
        event,
        'machine-error',
        fromBuffer,
        `the machine threw while applying ${event.type}: ${step.error}`,
      );
      return this.applyRejectionPolicy(event, 'machine-error', step.error, true);
    }
    this.moved = true;
    if (event.seq !== undefined) this.lastSeq = Math.max(this.lastSeq, event.seq);
    else this.lastTime = lastTimeAfter(this.lastTime, event);
    const state = cursor.value();
    this.applied.push({
      id: event.id,
      aggregate: event.aggregate,
      key: event.key,
      seq: this.lastSeq,
      type: event.type,
      payload: event.payload,
      from,
      state,
      time: event.time,
    });
    this.record(makeOutcome(event, 'applied', reason, state, fromBuffer, undefined, from));
    return true;
  }

  // --- drain ---------------------------------------------------------------------------------

  /** After the sequence moved: apply what became legal, discard what became past, until nothing moves. */
  private drain(): void {
    for (;;) {
      // Most events arrive in order: nothing waits, so there is nothing to look through.
      if (this.parked || this.held || this.currentBuffer().length === 0) return;
      this.discardStaleSequenced();
      // The buffer keeps sequenced entries first, by seq: with the stale ones gone, the next
      // expected seq can only be at the head.
      const next = this.currentBuffer()[0];
      if (next?.event.seq === this.lastSeq + 1) {
        this.removeFromBuffer(next);
        const invalid = next.unchecked ? checkTypeAndPayload(this.context.aggregate, next.event) : undefined;
        if (invalid) {
          const park = this.context.aggregate.onRejected === 'park';
          this.reject(next.event, invalid.reason, true, invalid.detail, park);
          if (!this.applyRejectionPolicy(next.event, invalid.reason, invalid.detail, true)) return;
        } else if (next.rejection) {
          const { reason, detail } = next.rejection;
          if (!this.applyRejectionPolicy(next.event, reason, detail, true)) return;
        } else if (!this.atTurn(next.event, true)) {
          if (this.parked) return;
        }
        continue;
      }
      if (!this.drainUnsequencedOnce()) return;
    }
  }

  /** Sequenced entries at or below lastSeq sit at the head of the buffer; each leaves as stale. */
  private discardStaleSequenced(): void {
    for (let head = this.currentBuffer()[0]; head?.event.seq !== undefined; head = this.currentBuffer()[0]) {
      const seq = head.event.seq;
      if (seq > this.lastSeq) return;
      this.removeFromBuffer(head);
      if (head.rejection) continue;
      this.settle(
        head.event,
        'discarded',
        'stale-seq',
        true,
        `seq ${seq} was passed while it waited (last applied ${this.lastSeq})`,
      );
    }
  }

  /**
   * Handles the first unsequenced entry whose turn has come; returns true when the machine moved.
   * Untimed entries come in arrival order, timed ones in event-time order, and the first timed
   * entry still within its hold stops the walk: everything later in event time waits behind it,
   * which is what makes the hold reproduce in-order processing.
   */
  private drainUnsequencedOnce(): boolean {
    const buffer = this.currentBuffer();
    // Unsequenced entries sit behind the sequenced ones: none at the tail means none at all.
    if (buffer[buffer.length - 1]?.event.seq !== undefined) return false;
    const { cursor, aggregate, now } = this.context;
    for (const entry of unsequencedInTurnOrder(buffer, now, aggregate.holdMs)) {
      const { event } = entry;
      const invalid = entry.unchecked ? checkTypeAndPayload(aggregate, event) : undefined;
      if (invalid) {
        this.removeFromBuffer(entry);
        this.reject(event, invalid.reason, true, invalid.detail);
        continue;
      }
      const value = cursor.value();
      if (isTimed(event) && isStaleTime(markOf(event), this.lastTime)) {
        this.removeFromBuffer(entry);
        this.settle(
          event,
          'discarded',
          'stale-time',
          true,
          staleTimeDetail(event, this.lastTime as TimeMark),
        );
        continue;
      }
      if (cursor.done()) {
        this.removeFromBuffer(entry);
        this.settle(
          event,
          'discarded',
          'entity-final',
          true,
          `the entity reached final state ${describeValue(value)}`,
        );
        continue;
      }
      if (aggregate.topology.acceptsNow(value, event.type)) {
        this.removeFromBuffer(entry);
        const moved = this.take(event, 'drained', true);
        if (moved !== undefined) return moved;
        this.reject(
          event,
          'guard-refused',
          true,
          `a guard refused ${event.type} in state ${describeValue(value)}`,
        );
        continue;
      }
      if (!aggregate.topology.acceptsLater(value, event.type)) {
        this.removeFromBuffer(entry);
        this.settle(
          event,
          'discarded',
          'unreachable-type',
          true,
          `${event.type} can no longer happen after ${describeValue(value)}`,
        );
      }
      // Otherwise a reachable state accepts it: it waits (future-type) for that state or a later event.
    }
    return false;
  }

  // --- bookkeeping ---------------------------------------------------------------------------

  private settle(
    event: EventEnvelope,
    outcome: Exclude<OutcomeKind, 'applied' | 'rejected'>,
    reason: ReasonOf<'buffered'> | ReasonOf<'discarded'>,
    fromBuffer: boolean,
    detail?: string,
  ): void {
    this.record(makeOutcome(event, outcome, reason, this.context.cursor.value(), fromBuffer, detail));
  }

  private reject(
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
  private sourceOf(event: EventEnvelope): InputSource | undefined {
    if (event === this.arriving) return this.arrivalSource;
    // Rejections are rare: a scan of the entity as loaded (every other event was waiting there) is fine.
    if (this.entity.parked?.event === event) return this.entity.parked.source;
    return this.entity.buffer.find((entry) => entry.event === event)?.source;
  }

  private record(outcome: Outcome): void {
    // Only unsequenced ids need remembering: a sequenced duplicate is caught by its seq (at or below
    // lastSeq, or equal to a waiting one), which keeps the per-event cost flat.
    if (!outcome.fromBuffer && outcome.seq === null && outcome.id !== null)
      (this.seenAdded = writable(this.seenAdded)).push(outcome.id);
    this.outcomes.push(outcome);
  }

  private markLastOutcomeParked(): void {
    const last = this.outcomes[this.outcomes.length - 1];
    if (last) last.parked = true;
  }

  private setParked(parked: ParkedEvent | undefined): void {
    this.parked = parked;
    this.parkedChanged = true;
  }

  private currentBuffer(): readonly BufferedEvent[] {
    return this.buffer ?? this.entity.buffer;
  }

  private addToBuffer(entry: BufferedEvent): void {
    const buffer = (this.buffer ??= [...this.entity.buffer]);
    buffer.splice(bufferPosition(buffer, entry.event.seq), 0, entry);
    (this.bufferAdded = writable(this.bufferAdded)).push(entry);
  }

  private removeFromBuffer(entry: BufferedEvent): void {
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
function withSource<TEntry extends object>(entry: TEntry, source: InputSource | undefined): TEntry {
  return source === undefined ? entry : { ...entry, source };
}

function duplicateId(event: EventEnvelope): { reason: 'duplicate-id'; detail: string } {
  return { reason: 'duplicate-id', detail: `event id ${event.id} was already handled for this entity` };
}

/** The shared empty list (frozen: a write to it would throw, never corrupt). */
const NONE = Object.freeze([]) as unknown as never[];

function writable<T>(list: T[]): T[] {
  return (list as unknown) === NONE ? [] : list;
}
