/**
 * The checks an event of a known aggregate passes before the rules order it: its type must be one
 * the machine knows, and its payload must fit the aggregate's schema for that type.
 */
import type { Aggregate } from './aggregate.ts';
import type { EventEnvelope } from './envelope.ts';
import type { ReasonOf } from './outcome.ts';

/** Type and payload checks; replaces the payload with the schema's parsed output. */
export function checkTypeAndPayload(
  aggregate: Aggregate,
  event: EventEnvelope,
): { reason: ReasonOf<'rejected'>; detail: string } | undefined {
  const { topology, payloads, name } = aggregate;
  if (!topology.isKnownType(event.type)) {
    return {
      reason: 'unknown-event-type',
      detail: `no state of the ${name} machine accepts ${event.type} (it accepts: ${topology.eventTypes.join(', ')})`,
    };
  }
  const schema = payloads[event.type];
  if (!schema) return undefined;
  const parsed = schema.safeParse(event.payload ?? {});
  if (parsed.success) {
    event.payload = parsed.data as Record<string, unknown>;
    return undefined;
  }
  const detail = parsed.error.issues
    .map(
      (issue) => `${issue.path.length > 0 ? issue.path.map(String).join('.') : 'payload'}: ${issue.message}`,
    )
    .join('; ');
  return { reason: 'invalid-payload', detail: `${event.type} payload: ${detail}` };
}
