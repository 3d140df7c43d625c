/**
 * Produces a relay round in order, 1,000 records per request. A record the broker refuses for
 * good (larger than the topic's max.message.bytes, or invalid) would otherwise be retried forever
 * and stall every row behind it: the failing request is then sent again one record at a time, and
 * the refused record is replaced by a reduced copy (same key and identity, the payload left out,
 * a `gatekeeper-truncated` header saying why), and if that is refused too, by a minimal one.
 */
import type { Message, Producer } from 'kafkajs';
import { findCause } from '../core/errors.ts';

/** Records per produce request: keeps each partition's record batch well under the broker's 1 MB default. */
export const SEND_CHUNK = 1_000;

const REFUSED_FOR_GOOD = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE', 'INVALID_RECORD']);

export interface PublishRowsOptions<TRow> {
  producer: Producer;
  topic: string;
  rows: readonly TRow[];
  full(row: TRow): Message;
  /** The copy sent instead of a refused record. */
  reduced(row: TRow, reason: string): Message;
  /**
   * The last resort when the reduced copy is refused too (its key alone is too large, say): a copy
   * that can always be sent. Without it, such a row fails the round.
   */
  minimal?(row: TRow, reason: string): Message;
  onRefused?(reason: string): void;
}

export async function publishRows<TRow>(options: PublishRowsOptions<TRow>): Promise<void> {
  const { producer, topic, rows } = options;
  const send = (messages: Message[]) => producer.send({ topic, acks: -1, messages });
  for (let at = 0; at < rows.length; at += SEND_CHUNK) {
    const chunk = rows.slice(at, at + SEND_CHUNK);
    try {
      await send(chunk.map((row) => options.full(row)));
    } catch (error) {
      if (refusedForGood(error) === undefined) throw error;
      // Some records of the request may have landed: sending them again only makes duplicates,
      // which consumers drop by identity; the order of first copies is kept.
      for (const row of chunk) {
        try {
          await send([options.full(row)]);
        } catch (single) {
          const reason = refusedForGood(single);
          if (reason === undefined) throw single;
          options.onRefused?.(reason);
          try {
            await send([options.reduced(row, reason)]);
          } catch (again) {
            const still = refusedForGood(again);
            if (still === undefined || options.minimal === undefined) throw again;
            await send([options.minimal(row, still)]);
          }
        }
      }
    }
  }
}

/** The broker's error type when the error (or a cause) says the record can never be accepted. */
export function refusedForGood(error: unknown): string | undefined {
  const refused = findCause(error, (cause) => REFUSED_FOR_GOOD.has(brokerErrorType(cause)));
  return refused && brokerErrorType(refused);
}

/** kafkajs's KafkaJSProtocolError carries the broker's error name in `type`. */
function brokerErrorType(error: Error): string {
  const type = (error as { type?: unknown }).type;
  return typeof type === 'string' ? type : '';
}
