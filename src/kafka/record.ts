/**
 * Turns one Kafka input record into what the gatekeeper decides: an event to handle, or input
 * refused before deciding (not JSON, or a record key that is not the envelope's key). Refusals are
 * dead-lettered like any rejection, so a poison record never stalls its partition.
 */
import { messageOf } from '../core/errors.ts';
import { jsonDepth, MAX_JSON_DEPTH } from '../core/json-depth.ts';

/**
 * Where a record came from: handed to the gatekeeper with it, and reported on its dead letter.
 * `key` is the record's key (when it has one), so a dead letter that names no entity (`42`, an
 * envelope without a string key) is still published under the record's key.
 */
// A type, not an interface: it must fit the gatekeeper's InputSource (a string-keyed record).
export type SourceCoordinates = { topic: string; partition: number; offset: string; key?: string };

/** The `raw` of a dead letter for a record that was not JSON: its coordinates, key and text. */
export interface UnparseableRecord {
  kafka: Omit<SourceCoordinates, 'key'> & { key: string | null };
  value: string | null;
}

export type DecodedRecord =
  | { kind: 'event'; input: unknown; id: string | undefined }
  | { kind: 'unparseable'; raw: UnparseableRecord; detail: string }
  | { kind: 'key-mismatch'; input: unknown; id: string | undefined; detail: string };

interface RecordLike {
  key: Buffer | null;
  value: Buffer | null;
  offset: string;
}

/** Decodes one record; never throws. */
export function decodeRecord(topic: string, partition: number, record: RecordLike): DecodedRecord {
  const key = record.key === null ? null : record.key.toString('utf8');
  const text = record.value === null ? null : record.value.toString('utf8');
  const unparseable = (detail: string): DecodedRecord => ({
    kind: 'unparseable',
    raw: { kafka: { topic, partition, offset: record.offset, key }, value: text },
    detail,
  });
  if (text === null)
    return unparseable('the record has no value (a tombstone); expected an event envelope as JSON');
  // Before JSON.parse: a value nested this deep could be parsed but never stored or published.
  // Each level takes an opening bracket, so a text no longer than the limit cannot pass it: the
  // scan (a pass over every character of every record) is skipped for ordinary envelopes.
  if (text.length > MAX_JSON_DEPTH && jsonDepth(text, MAX_JSON_DEPTH) > MAX_JSON_DEPTH)
    return unparseable(
      `the record value nests deeper than ${MAX_JSON_DEPTH} levels (an event envelope needs a few); refused before parsing`,
    );
  let input: unknown;
  try {
    input = JSON.parse(text);
  } catch (error) {
    return unparseable(`the record value is not JSON: ${messageOf(error)}`);
  }
  const fields =
    typeof input === 'object' && input !== null && !Array.isArray(input)
      ? (input as Record<string, unknown>)
      : undefined;
  const id = typeof fields?.id === 'string' ? fields.id : undefined;
  // An envelope without a string key is refused by the gatekeeper itself (invalid-envelope).
  if (fields && typeof fields.key === 'string' && fields.key !== key) {
    const detail =
      key === null
        ? `the record has no key; it must be the envelope's key ${JSON.stringify(fields.key)}`
        : `the record key ${JSON.stringify(key)} is not the envelope's key ${JSON.stringify(fields.key)}`;
    return { kind: 'key-mismatch', input, id, detail };
  }
  return { kind: 'event', input, id };
}
