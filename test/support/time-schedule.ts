/** Arrival schedules for time-mode properties: when each event (and each redelivery) reaches the gatekeeper. */
import fc from 'fast-check';
import type { TimedEvent } from '../../src/core/time-order.ts';

export interface Delivery {
  kind: 'event';
  /** ms after the schedule's start. */
  at: number;
  event: TimedEvent;
}

/**
 * Arrival times for a history in true order: `raw[i]` for event i, pulled earlier where needed so
 * each event arrives no later than `holdMs` after the event that follows it (the hold's
 * guarantee; an infinite hold leaves `raw` as it is). Redeliveries come `delay` after their original.
 */
export function arrivalsWithinHold(
  history: readonly TimedEvent[],
  raw: readonly number[],
  duplicates: readonly { index: number; delay: number }[],
  holdMs: number,
): Delivery[] {
  const at = history.map((_, index) => raw[index % raw.length] ?? 0);
  for (let index = at.length - 2; index >= 0; index -= 1)
    at[index] = Math.min(at[index] as number, (at[index + 1] as number) + holdMs);
  const deliveries: Delivery[] = history.map((event, index) => ({
    kind: 'event',
    at: at[index] as number,
    event,
  }));
  for (const { index, delay } of duplicates) {
    const original = deliveries[index % deliveries.length] as Delivery;
    deliveries.push({ kind: 'event', at: original.at + delay, event: original.event });
  }
  return deliveries;
}

/**
 * Deliveries and sweeps in time order. At equal times the adversarial order goes first: sweeps,
 * then later events before earlier ones, so a release at the very end of a hold is exercised.
 */
export function schedule(
  deliveries: readonly Delivery[],
  sweeps: readonly number[],
): (Delivery | { kind: 'sweep'; at: number })[] {
  const sweepSteps = sweeps.map((at) => ({ kind: 'sweep' as const, at }));
  // Array.prototype.sort is stable: the list's order decides ties.
  return [...sweepSteps, ...[...deliveries].reverse()].sort((a, b) => a.at - b.at);
}

/** Raw arrival times (ms), redeliveries and sweeps for one entity's history of up to 12 events. */
export const timedArbitraries = {
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  arrivals: fc.array(fc.nat({ max: 8_000 }), { minLength: 12, maxLength: 12 }),
  duplicates: fc.array(fc.record({ index: fc.nat(), delay: fc.nat({ max: 6_000 }) }), { maxLength: 4 }),
  sweeps: fc.array(fc.nat({ max: 12_000 }), { maxLength: 4 }),
};
