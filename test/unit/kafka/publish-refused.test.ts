import type { Message, Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { DeadLetter } from '../../../src/core/outcome.ts';
import { deadLetterMessage, HEADERS, minimalDeadLetterMessage } from '../../../src/kafka/output-records.ts';
import { publishRows } from '../../../src/kafka/publish.ts';
import type { QueuedItem } from '../../../src/store/entity-store.ts';

/** A producer whose topic refuses, like a broker, every record larger than `maxBytes`. */
function smallTopic(maxBytes: number) {
  const sent: Message[] = [];
  const producer = {
    send: ({ messages }: { messages: Message[] }) => {
      for (const message of messages) {
        const size = String(message.key ?? '').length + String(message.value ?? '').length;
        if (size > maxBytes)
          return Promise.reject(
            Object.assign(new Error('The request included a message larger than the max message size'), {
              type: 'MESSAGE_TOO_LARGE',
            }),
          );
      }
      sent.push(...messages);
      return Promise.resolve([]);
    },
  } as unknown as Producer;
  return { producer, sent };
}

const letter = (key: string): QueuedItem<DeadLetter> => ({
  id: '3/1-0',
  value: {
    reason: 'invalid-envelope',
    detail: 'the record value is not JSON',
    at: 1,
    event: undefined,
    raw: { kafka: { topic: 'in', partition: 0, offset: '42', key }, value: 'x'.repeat(5_000) },
    aggregate: null,
    key: null,
    source: { topic: 'in', partition: 0, offset: '42', key },
  },
});

describe('publishing a dead letter the topic refuses', () => {
  it('sends it reduced, and minimal when even the reduced copy is too large (a huge record key), so the relay goes on', async () => {
    const { producer, sent } = smallTopic(2_000);
    const rows = [letter('small-key'), letter('k'.repeat(10_000))];
    await publishRows({
      producer,
      topic: 'dead',
      rows,
      full: (row) => deadLetterMessage(row),
      reduced: (row, reason) => deadLetterMessage(row, reason),
      minimal: (row, reason) => minimalDeadLetterMessage(row, reason),
    });
    expect(sent).toHaveLength(2);
    expect(sent[0]?.key).toBe('small-key'); // reduced: the record's key kept
    expect(sent[1]?.key).toBeNull(); // minimal: the key only as a hash
    for (const message of sent) {
      expect((message.headers as Record<string, string>)[HEADERS.truncated]).toBe('MESSAGE_TOO_LARGE');
      expect((message.headers as Record<string, string>)[HEADERS.sourceOffset]).toBe('42');
    }
    const minimal = JSON.parse(String(sent[1]?.value)) as Record<string, unknown>;
    expect(minimal.keyHash).toMatch(/^sha256:/);
    expect(minimal.hash).toMatch(/^sha256:/);
  });

  it('without a minimal copy, a row whose reduced copy is refused fails the round (it is retried)', async () => {
    const { producer } = smallTopic(2_000);
    await expect(
      publishRows({
        producer,
        topic: 'dead',
        rows: [letter('k'.repeat(10_000))],
        full: (row) => deadLetterMessage(row),
        reduced: (row, reason) => deadLetterMessage(row, reason),
      }),
    ).rejects.toThrow(/larger than the max message size/);
  });
});
