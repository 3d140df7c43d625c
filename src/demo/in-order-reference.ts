/**
 * The reference the demo and the property tests check against: each entity's history applied
 * strictly in seq order, once, with XState's pure transition functions — no buffer, no drain.
 * Rejected events follow the aggregate's policy (skip moves on, park stops the entity there).
 */
import { initialTransition, transition, type AnyMachineSnapshot } from 'xstate';
import type { Aggregate } from '../core/aggregate.ts';
import { toMachineEvent, type EventEnvelope } from '../core/envelope.ts';
import type { StateValue } from '../core/outcome.ts';

export interface ReferenceResult {
  state: StateValue;
  /** Ids of the events applied, in order. */
  applied: string[];
  parked: boolean;
}

export function inOrderReference(aggregate: Aggregate, history: readonly EventEnvelope[]): ReferenceResult {
  const ordered = [...history].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0));
  let [snapshot] = initialTransition(aggregate.machine) as [AnyMachineSnapshot, unknown];
  const applied: string[] = [];
  const seen = new Set<number>();
  for (const original of ordered) {
    if (original.seq !== undefined) {
      if (seen.has(original.seq)) continue;
      seen.add(original.seq);
    }
    const event = { ...original };
    const schema = aggregate.payloads[event.type];
    let legal = aggregate.topology.isKnownType(event.type);
    if (legal && schema) {
      const parsed = schema.safeParse(event.payload ?? {});
      legal = parsed.success;
      if (parsed.success) event.payload = parsed.data as Record<string, unknown>;
    }
    const machineEvent = toMachineEvent(event);
    if (legal && snapshot.status === 'active' && snapshot.can(machineEvent)) {
      [snapshot] = transition(aggregate.machine, snapshot, machineEvent) as [AnyMachineSnapshot, unknown];
      applied.push(event.id);
      continue;
    }
    if (aggregate.onRejected === 'park')
      return { state: snapshot.value as StateValue, applied, parked: true };
  }
  return { state: snapshot.value as StateValue, applied, parked: false };
}
