/**
 * The event envelope: the one shape every event must have before the gatekeeper looks at it.
 * Validated with zod at the boundary; everything inside the engine trusts it afterwards.
 */
import { z } from 'zod';

/** Upper bounds keep a hostile producer from parking megabytes in a key or an id. */
export const ENVELOPE_LIMITS = { id: 512, aggregate: 128, key: 1024, type: 256 } as const;

const plainObject = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'payload must be a JSON object' },
);

const BOUNDED_FIELDS = ['id', 'aggregate', 'key', 'type'] as const;

export const eventEnvelopeSchema = z
  .object({
    id: z.string(),
    aggregate: z.string(),
    key: z.string(),
    seq: z.number().optional(),
    type: z.string(),
    payload: plainObject.optional(),
    time: z.iso.datetime({ offset: true }).optional(),
  })
  // One check for every bound, run once the shape is right, instead of a min and a max per field:
  // this runs for every event, and zod's per-field checks were a tenth of a decision's allocations.
  .check((ctx) => {
    const envelope = ctx.value;
    for (const field of BOUNDED_FIELDS) {
      const { length } = envelope[field];
      if (length === 0 || length > ENVELOPE_LIMITS[field]) {
        const message = `must be 1 to ${ENVELOPE_LIMITS[field]} characters long (got ${length})`;
        ctx.issues.push({ code: 'custom', path: [field], message, input: envelope[field] });
      }
    }
    const { seq } = envelope;
    if (seq !== undefined && !(Number.isSafeInteger(seq) && seq > 0)) {
      const message = `must be a positive integer (got ${seq})`;
      ctx.issues.push({ code: 'custom', path: ['seq'], message, input: seq });
    }
  });

/** One event as producers send it: `seq` is the entity version this event creates (1 for the first). */
export type EventEnvelope = z.infer<typeof eventEnvelopeSchema>;

export type EnvelopeParse =
  | { ok: true; event: EventEnvelope }
  | {
      ok: false;
      message: string;
      partial: Partial<Record<'id' | 'aggregate' | 'key' | 'type', string>> & { seq?: number };
    };

/** Parses untrusted input into an envelope, or explains in one line what is wrong with it. */
export function parseEnvelope(input: unknown): EnvelopeParse {
  const result = eventEnvelopeSchema.safeParse(input);
  if (result.success) return { ok: true, event: result.data };
  return { ok: false, message: formatIssues(result.error), partial: salvageIdentity(input) };
}

/** zod issues as `path: message; path: message`, short enough for a dead-letter header. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message))
    .join('; ');
}

/** Keeps whatever identifying fields are usable so a rejected line can still be traced to its entity. */
function salvageIdentity(input: unknown): Extract<EnvelopeParse, { ok: false }>['partial'] {
  if (typeof input !== 'object' || input === null) return {};
  const record = input as Record<string, unknown>;
  const partial: Extract<EnvelopeParse, { ok: false }>['partial'] = {};
  for (const field of ['id', 'aggregate', 'key', 'type'] as const) {
    const value = record[field];
    if (typeof value === 'string' && value.length <= ENVELOPE_LIMITS[field]) partial[field] = value;
  }
  if (typeof record.seq === 'number' && Number.isSafeInteger(record.seq)) partial.seq = record.seq;
  return partial;
}

/** What the machine receives: the payload's fields beside `type`, so guards read `event.amount`. */
export function toMachineEvent(event: EventEnvelope): { type: string } & Record<string, unknown> {
  return event.payload === undefined ? { type: event.type } : { ...event.payload, type: event.type };
}
