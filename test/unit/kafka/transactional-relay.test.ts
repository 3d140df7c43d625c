/**
 * The exactly-once publisher's recovery against a broker whose group offsets lag a transaction
 * that has just committed (the broker applies them after writing its markers): the checkpoint it
 * settles on is the final one, so rows that transaction published are deleted, never produced again.
 */
import type { Admin, Kafka } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import type { QueuedItem } from '../../../src/store/entity-store.ts';
import { streamIdToOffset, TransactionalPublisher } from '../../../src/kafka/transactional-relay.ts';

const done = () => Promise.resolve();

/** A producer whose transactions only count what is sent in them. */
function fakeKafka(sent: string[]): Kafka {
  return {
    producer: () => ({
      connect: done,
      disconnect: done,
      transaction: () =>
        Promise.resolve({
          send: ({ messages }: { messages: { value: string }[] }) => {
            for (const message of messages) sent.push(message.value);
            return done();
          },
          sendOffsets: done,
          commit: done,
          abort: done,
          isActive: () => false,
        }),
    }),
  } as unknown as Kafka;
}

/** An admin whose checkpoint reads answer `answers` in turn, then the last one for good. */
function laggingAdmin(answers: string[]): Admin {
  let last = answers[answers.length - 1] as string;
  return {
    fetchOffsets: () => {
      const offset = answers.shift() ?? last;
      last = offset;
      return Promise.resolve([{ topic: 'in', partitions: [{ partition: 0, offset, metadata: null }] }]);
    },
  } as unknown as Admin;
}

/** A dead-letter publisher whose queue holds nothing up to any checkpoint. */
function emptyQueuePublisher(kafka: Kafka, onStale?: (first: string, final: string) => void) {
  return new TransactionalPublisher<string>(
    kafka,
    {
      kind: 'dead-letter',
      partition: 0,
      groupId: 'g',
      topic: 'dead',
      checkpointTopic: 'in',
      readUpTo: () => Promise.resolve([]),
      ack: done,
    },
    { full: (row) => ({ value: row.value }), reduced: (row) => ({ value: row.value }) },
    () => undefined,
    onStale,
  );
}

function rows(...streamIds: string[]): QueuedItem<string>[] {
  return streamIds.map((id) => ({ id: `0/${id}`, value: id }));
}

describe('the exactly-once publisher after fencing', () => {
  it('waits for a checkpoint that moves just after the fence, deletes the rows it covers and publishes only the rest', async () => {
    const stored = rows('10-0', '11-0', '12-0');
    const acked: string[] = [];
    const sent: string[] = [];
    const stale: string[] = [];
    const publisher = new TransactionalPublisher<string>(
      fakeKafka(sent),
      {
        kind: 'output',
        partition: 0,
        groupId: 'g',
        topic: 'out',
        checkpointTopic: 'in',
        readUpTo: (streamId) =>
          Promise.resolve(
            stored.filter(
              (row) =>
                !acked.includes(row.id) &&
                BigInt(streamIdToOffset(row.id.slice(2))) <= BigInt(streamIdToOffset(streamId)),
            ),
          ),
        ack: (ids) => {
          acked.push(...ids);
          return done();
        },
      },
      { full: (row) => ({ value: row.value }), reduced: (row) => ({ value: row.value }) },
      () => undefined,
      (first, final) => stale.push(`${first} → ${final}`),
    );
    // The first read still answers the checkpoint from before the transaction that published 10-0 and 11-0.
    const removed = await publisher.recover(
      laggingAdmin([streamIdToOffset('9-0'), streamIdToOffset('11-0'), streamIdToOffset('11-0')]),
    );
    expect(removed).toBe(2);
    expect(acked).toEqual(['0/10-0', '0/11-0']);
    expect(stale).toEqual(['9-0 → 11-0']);
    await publisher.publish(stored);
    expect(sent).toEqual(['12-0']);
  });

  it('once closed (its relay retired), never starts a producer again, so a round still running cannot fence its successor', async () => {
    const sent: string[] = [];
    const kafka = fakeKafka(sent);
    let producers = 0;
    const counting = {
      producer: (...args: Parameters<Kafka['producer']>) => {
        producers += 1;
        return kafka.producer(...args);
      },
    } as unknown as Kafka;
    const publisher = emptyQueuePublisher(counting);
    await publisher.publish(rows('1-0'));
    expect(producers).toBe(1);
    await publisher.close();
    await expect(publisher.publish(rows('2-0'))).rejects.toMatchObject({ code: 'PUBLISHER_RETIRED' });
    expect(producers).toBe(1);
    expect(sent).toEqual(['1-0']);
  });

  it('takes a checkpoint that two reads agree on at once, without telling of a stale one', async () => {
    const stale: string[] = [];
    const publisher = emptyQueuePublisher(fakeKafka([]), (first, final) => stale.push(`${first} → ${final}`));
    expect(await publisher.recover(laggingAdmin([streamIdToOffset('7-3')]))).toBe(0);
    expect(stale).toEqual([]);
  });
});
