/**
 * Rejects input that never reached an entity (not an envelope, an aggregate with no machine, a
 * record its transport refused) as a dead letter: nothing is decided or committed for an entity,
 * but the rejection is recorded and reported like any other.
 */
import type { Clock } from '../core/clock.ts';
import type { EventEnvelope } from '../core/envelope.ts';
import type { DeadLetter, InputSource, Outcome } from '../core/outcome.ts';
import type { EntityStore } from '../store/entity-store.ts';
import type { HandleResult } from './gatekeeper-api.ts';
import type { Listeners } from './listeners.ts';

export interface RejectWithoutEntityDeps {
  store: EntityStore;
  clock: Clock;
  listeners: Listeners;
}

export async function rejectWithoutEntity(
  deps: RejectWithoutEntityDeps,
  raw: unknown,
  reason: 'invalid-envelope' | 'unknown-aggregate' | 'key-mismatch' | 'input-too-large',
  detail: string,
  about: {
    identity: { id?: string; aggregate?: string; key?: string; seq?: number; type?: string };
    event?: EventEnvelope;
    source: InputSource | undefined;
  },
): Promise<HandleResult> {
  const { identity, event, source } = about;
  const outcome: Outcome = {
    outcome: 'rejected',
    reason,
    detail,
    id: identity.id ?? null,
    aggregate: identity.aggregate ?? null,
    key: identity.key ?? null,
    seq: identity.seq ?? null,
    type: identity.type ?? null,
    state: null,
    fromBuffer: false,
    ...(event ? { event } : {}),
  };
  const letter: DeadLetter = {
    reason,
    detail,
    at: deps.clock.now(),
    event,
    ...(event ? {} : { raw }),
    aggregate: outcome.aggregate,
    key: outcome.key,
    ...(source ? { source } : {}),
  };
  await deps.store.recordDeadLetter(letter);
  deps.listeners.emit([outcome], [], [letter]);
  return { outcome, outcomes: [outcome], transitions: [] };
}
