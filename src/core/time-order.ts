/**
 * Time mode: the rules for events that carry `time` but no `seq`. Such an event is ordered by its
 * event time, ties broken by its id, so the order is total and every replay decides the same. An
 * event not after the entity's last applied one is past (`stale-time`), on cycles too; with a
 * per-aggregate hold (`holdMs`) events wait in the buffer and are released in event-time order.
 * Pure: `now` is always handed in.
 */
import type { EventEnvelope } from './envelope.ts';
import type { MachineTopology } from './topology.ts';

/**
 * Where a timed event sits in event-time order: `at` is its time in UTC with nine fraction digits
 * (so plain string comparison is time order, whatever offset the producer wrote), `id` breaks ties.
 */
export interface TimeMark {
  at: string;
  id: string;
}

/** An event this module orders: unsequenced (seq wins when present) and stamped with `time`. */
export type TimedEvent = EventEnvelope & { time: string };

/** True when the event is decided in time mode: no `seq`, and a `time`. */
export function isTimed(event: EventEnvelope): event is TimedEvent {
  return event.seq === undefined && event.time !== undefined;
}

/**
 * The event's time as a sortable UTC string: `2026-11-26T08:00:00.123456700Z` for
 * `2026-11-26T10:00:00.1234567+02:00`. Digits beyond nanoseconds are dropped. `time` has passed
 * the envelope's ISO-8601-with-offset check, so it parses.
 */
export function canonicalTime(time: string): string {
  const fraction = /\.(\d+)/.exec(time)?.[1] ?? '';
  // Date.parse keeps milliseconds only; the finer digits are appended so they still order.
  const millis = Date.parse(time.replace(/\.\d+/, `.${fraction.slice(0, 3).padEnd(3, '0')}`));
  return `${new Date(millis).toISOString().slice(0, -1)}${fraction.slice(3, 9).padEnd(6, '0')}Z`;
}

export function markOf(event: TimedEvent): TimeMark {
  return { at: canonicalTime(event.time), id: event.id };
}

/** Event-time order: by time, then by id (string order) for events stamped with the same time. */
export function compareMarks(a: TimeMark, b: TimeMark): number {
  if (a.at !== b.at) return a.at < b.at ? -1 : 1;
  if (a.id !== b.id) return a.id < b.id ? -1 : 1;
  return 0;
}

/** Past: not after the last applied timed event (same time and an id not greater counts as past). */
export function isStaleTime(mark: TimeMark, last: TimeMark | undefined): boolean {
  return last !== undefined && compareMarks(mark, last) <= 0;
}

/**
 * The entity's last applied time once `event` (unsequenced) is applied: its mark when it is timed
 * and later; never backwards (only an operator's retry of a parked event can apply an earlier one).
 */
export function lastTimeAfter(last: TimeMark | undefined, event: EventEnvelope): TimeMark | undefined {
  if (!isTimed(event)) return last;
  const mark = markOf(event);
  return isStaleTime(mark, last) ? last : mark;
}

export function staleTimeDetail(event: TimedEvent, last: TimeMark): string {
  return `time ${event.time} (id ${event.id}) is not after the last applied time ${last.at} (id ${last.id}): a late or repeated event`;
}

/**
 * A reason to refuse a time too far ahead of the gatekeeper's clock, else undefined. Such a time
 * would make every real event after it look past, so the entity would drop them until then.
 */
export function futureTimeDetail(event: TimedEvent, now: number, maxFutureMs: number): string | undefined {
  const ahead = Date.parse(event.time) - now;
  if (ahead <= maxFutureMs) return undefined;
  return `time ${event.time} is ${ahead} ms ahead of the gatekeeper's clock, more than maxFutureMs (${maxFutureMs}); check the producer's clock`;
}

/**
 * True while a buffered timed event must keep waiting for earlier ones: it arrived no more than
 * `holdMs` ago. Strictly longer than `holdMs` releases it, so an earlier event arriving exactly
 * `holdMs` after it is still in time.
 */
export function isHeld(entry: { receivedAt: number }, now: number, holdMs: number): boolean {
  return holdMs > 0 && now - entry.receivedAt <= holdMs;
}

/** The buffer's timed entries in event-time order, each with its mark. */
export function timedInOrder<TEntry extends { event: EventEnvelope }>(
  buffer: readonly TEntry[],
): { entry: TEntry; event: TimedEvent; mark: TimeMark }[] {
  const timed: { entry: TEntry; event: TimedEvent; mark: TimeMark }[] = [];
  for (const entry of buffer) {
    const { event } = entry;
    if (isTimed(event)) timed.push({ entry, event, mark: markOf(event) });
  }
  return timed.sort((a, b) => compareMarks(a.mark, b.mark));
}

/** What `analyze` says about ordering one aggregate's unsequenced events. */
export interface OrderingNeeds {
  /** `seq-or-time`: its cycles make past and future look alike, so topology alone cannot order them. */
  needs: 'seq-or-time' | 'nothing';
  advice: string;
}

export function orderingNeeds(topology: MachineTopology, holdMs: number): OrderingNeeds {
  if (topology.cycles.length === 0)
    return { needs: 'nothing', advice: 'no cycles: topology orders events that carry neither seq nor time' };
  const cycles = topology.cycles.map((cycle) => cycle.join(' → ')).join('; ');
  const timeOnly =
    holdMs > 0
      ? `held up to holdMs=${holdMs} and applied in time order`
      : 'holdMs=0, so the last writer wins';
  return {
    needs: 'seq-or-time',
    advice: `cycles (${cycles}) need seq or time on their events; with time only: ${timeOnly}`,
  };
}

/**
 * The unsequenced entries of a buffer in the order their turns come: untimed ones in arrival
 * order, then timed ones in event-time order up to the first still held (everything later in
 * event time waits behind it).
 */
export function unsequencedInTurnOrder<TEntry extends { event: EventEnvelope; receivedAt: number }>(
  buffer: readonly TEntry[],
  now: number,
  holdMs: number,
): TEntry[] {
  const turns: TEntry[] = [];
  for (const entry of buffer)
    if (entry.event.seq === undefined && entry.event.time === undefined) turns.push(entry);
  for (const { entry } of timedInOrder(buffer)) {
    if (isHeld(entry, now, holdMs)) break;
    turns.push(entry);
  }
  return turns;
}

/**
 * When a release may next make progress for this buffer, as far as a sweeper can tell: undefined
 * when no timed entry waits. `settled` says the drain has just passed over the buffer with
 * nothing to do (a release that changed nothing): then only the end of the hold of the first
 * entry still held counts (nothing behind it moves before it), or Infinity when none is held
 * (the rest wait on the machine, not the clock). Otherwise the earliest hold end counts, which
 * may be early: one visit that changes nothing then settles it.
 */
export function nextReleaseAt<TEntry extends { event: EventEnvelope; receivedAt: number }>(
  buffer: readonly TEntry[],
  now: number,
  holdMs: number,
  settled: boolean,
): number | undefined {
  let earliest: number | undefined;
  for (const entry of buffer)
    if (isTimed(entry.event) && (earliest === undefined || entry.receivedAt < earliest))
      earliest = entry.receivedAt;
  if (earliest === undefined) return undefined;
  if (!settled) return earliest + holdMs;
  for (const { entry } of timedInOrder(buffer))
    if (isHeld(entry, now, holdMs)) return entry.receivedAt + holdMs;
  return Number.POSITIVE_INFINITY;
}
