/**
 * The records the relays produce: applied transitions on the output topic and dead letters on the
 * dead-letter topic. Both formats are documented in docs/kafka.md; change them only with it.
 */
import type { Message } from 'kafkajs';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import { valueHash } from '../store/value-hash.ts';
import type { QueuedItem } from '../store/entity-store.ts';
import type { SourceCoordinates, UnparseableRecord } from './record.ts';
import { transitionIdentity } from '../core/transition-identity.ts';

/** Header names (values are UTF-8 strings). */
export const HEADERS = {
  /** Identity of the record: equal identities are the same transition / dead letter published twice. */
  id: 'gatekeeper-id',
  aggregate: 'gatekeeper-aggregate',
  seq: 'gatekeeper-seq',
  reason: 'gatekeeper-reason',
  detail: 'gatekeeper-detail',
  sourceTopic: 'gatekeeper-source-topic',
  sourcePartition: 'gatekeeper-source-partition',
  sourceOffset: 'gatekeeper-source-offset',
  /** Present when the broker refused the full record: why, e.g. MESSAGE_TOO_LARGE (the payload is left out). */
  truncated: 'gatekeeper-truncated',
} as const;

/**
 * The `gatekeeper-truncated` reason of a record whose full value cannot be written as JSON at all
 * (nested too deep for JSON.stringify, a cycle): it is published reduced instead of blocking the
 * relay behind it forever.
 */
export const UNSERIALIZABLE = 'UNSERIALIZABLE';

/** Longest detail header; the full detail is in the value. */
const MAX_DETAIL_HEADER = 1_000;

/** The value of an output record (JSON). */
export interface OutputRecordValue {
  /** The applied event's id. */
  id: string;
  aggregate: string;
  key: string;
  /** The entity's seq after this transition (0 when the entity's events carry no seq). */
  seq: number;
  type: string;
  payload: Record<string, unknown> | null;
  /** State value after the transition. */
  state: AppliedTransition['state'];
  /** State value before it. */
  from: AppliedTransition['from'];
  time: string | null;
}

export { transitionIdentity } from '../core/transition-identity.ts';

/** The output record of a transition; with `truncated` (why), the payload is left out. */
export function outputMessage(row: AppliedTransition, truncated?: string): Message {
  const value: OutputRecordValue = {
    id: row.id,
    aggregate: row.aggregate,
    key: row.key,
    seq: row.seq,
    type: row.type,
    payload: truncated === undefined ? (row.payload ?? null) : null,
    state: row.state,
    from: row.from,
    time: row.time ?? null,
  };
  const full = tryJson(value);
  if (full === undefined && truncated === undefined) return outputMessage(row, UNSERIALIZABLE);
  const headers: Record<string, string> = {
    [HEADERS.id]: transitionIdentity(row),
    [HEADERS.aggregate]: row.aggregate,
    [HEADERS.seq]: String(row.seq),
  };
  if (truncated !== undefined) headers[HEADERS.truncated] = truncated;
  // Reduced and still not JSON (a state value that cannot be written): its identity at least.
  const text = full ?? JSON.stringify({ ...value, state: null, from: null, hash: valueHash(row) });
  return { key: row.key, value: text, headers };
}

/**
 * A dead-letter record: key = the entity key (or the input record's key), value = the dead letter
 * as JSON, headers = reason, detail, identity and, when known, the input record's coordinates.
 */
export function deadLetterMessage(item: QueuedItem<DeadLetter>, truncated?: string): Message {
  const letter = item.value;
  const unparseable = asUnparseable(letter.raw);
  const source = asCoordinates(letter.source) ?? asCoordinates(unparseable?.kafka);
  const headers: Record<string, string> = {
    [HEADERS.id]: `dead-letter/${item.id}`,
    [HEADERS.reason]: letter.reason,
    [HEADERS.detail]: letter.detail.slice(0, MAX_DETAIL_HEADER),
  };
  if (letter.aggregate !== null) headers[HEADERS.aggregate] = letter.aggregate;
  if (source) {
    headers[HEADERS.sourceTopic] = source.topic;
    headers[HEADERS.sourcePartition] = String(source.partition);
    headers[HEADERS.sourceOffset] = source.offset;
  }
  const full = truncated === undefined ? tryJson(letter) : undefined;
  const why = truncated ?? (full === undefined ? UNSERIALIZABLE : undefined);
  if (why !== undefined) headers[HEADERS.truncated] = why;
  const key = letter.key ?? source?.key ?? unparseable?.kafka.key ?? null;
  return { key, value: full ?? JSON.stringify(reducedDeadLetter(letter, source)), headers };
}

/**
 * A dead letter without the event / raw input it carried: reason, detail, where the input came
 * from, its id when known, and a hash (and size, for a record's text) to match it with the input.
 * Built only of strings and numbers, so it can always be written.
 */
export function reducedDeadLetter(
  letter: DeadLetter,
  source: SourceCoordinates | undefined = asCoordinates(letter.source),
): Record<string, unknown> {
  const unparseable = asUnparseable(letter.raw);
  const input: unknown = letter.event ?? (unparseable ? unparseable.value : letter.raw);
  return {
    reason: String(letter.reason),
    detail: String(letter.detail),
    at: letter.at,
    aggregate: letter.aggregate,
    key: letter.key,
    id: letter.event?.id ?? rawId(letter.raw) ?? null,
    ...(source ? { source } : {}),
    ...(typeof input === 'string' ? { size: Buffer.byteLength(input, 'utf8') } : {}),
    hash: valueHash(input),
  };
}

function tryJson(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function asUnparseable(raw: unknown): UnparseableRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  return asCoordinates((raw as { kafka?: unknown }).kafka) ? (raw as UnparseableRecord) : undefined;
}

/** A stored source is whatever its writer handed in: only a full set of Kafka coordinates counts. */
function asCoordinates(value: unknown): SourceCoordinates | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const { topic, partition, offset, key } = value as Record<string, unknown>;
  if (typeof topic !== 'string' || typeof partition !== 'number' || typeof offset !== 'string')
    return undefined;
  return typeof key === 'string' ? { topic, partition, offset, key } : { topic, partition, offset };
}

function rawId(raw: unknown): string | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const id = (raw as { id?: unknown }).id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * The smallest dead-letter record, for when even the reduced one is refused (a record key or a
 * detail too large for the topic): no key, the detail cut to 1,000 characters, the key and the
 * input kept only as hashes. Small enough for any topic, so no row can block the relay.
 */
export function minimalDeadLetterMessage(item: QueuedItem<DeadLetter>, truncated: string): Message {
  const letter = item.value;
  const reduced = reducedDeadLetter(letter);
  const source = asCoordinates(letter.source) ?? asCoordinates(asUnparseable(letter.raw)?.kafka);
  const { key: _key, ...where } = source ?? { key: undefined };
  const value = {
    reason: String(letter.reason),
    detail: String(letter.detail).slice(0, MAX_DETAIL_HEADER),
    at: letter.at,
    aggregate: typeof letter.aggregate === 'string' ? letter.aggregate.slice(0, 200) : null,
    key: null,
    keyHash: valueHash(letter.key ?? source?.key ?? null),
    id: typeof reduced.id === 'string' ? reduced.id.slice(0, 200) : null,
    ...(source ? { source: where } : {}),
    hash: reduced.hash,
  };
  const headers: Record<string, string> = {
    [HEADERS.id]: `dead-letter/${item.id}`,
    [HEADERS.reason]: String(letter.reason),
    [HEADERS.truncated]: truncated,
  };
  if (source) {
    headers[HEADERS.sourceTopic] = source.topic;
    headers[HEADERS.sourcePartition] = String(source.partition);
    headers[HEADERS.sourceOffset] = source.offset;
  }
  return { key: null, value: JSON.stringify(value), headers };
}
