/**
 * The identity of an applied transition, the same wherever it goes: the Kafka output record's
 * `gatekeeper-id` header and the idempotency key a transition handler gets on every attempt.
 */
import type { AppliedTransition } from './outcome.ts';

/**
 * `<aggregate>/<key>/<seq>` for entities with seq (each part URI-encoded, so it is unambiguous),
 * `<aggregate>/<key>/id:<event id>` for entities without.
 */
export function transitionIdentity(row: Pick<AppliedTransition, 'aggregate' | 'key' | 'seq' | 'id'>): string {
  const entity = `${encodeURIComponent(row.aggregate)}/${encodeURIComponent(row.key)}`;
  return row.seq > 0 ? `${entity}/${row.seq}` : `${entity}/id:${encodeURIComponent(row.id)}`;
}
