/**
 * patches/kafkajs+2.2.4.patch (applied by `npm ci`): what each change must keep or fix. kafkajs is
 * unmaintained, so these tests pin the patched modules' behaviour against the Kafka protocol.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

interface Encoder {
  writeVarInt(value: number): Encoder;
  writeUVarInt(value: number): Encoder;
  writeVarLong(value: number | string): Encoder;
  writeVarIntBytes(value: Buffer | string | null): Encoder;
  writeInt32(value: number): Encoder;
  readonly buffer: Buffer;
}
const Encoder = require('kafkajs/src/protocol/encoder') as new (initialSize?: number) => Encoder;
const groupMessagesPerPartition = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: {
  topic: string;
  partitionMetadata: unknown[];
  messages: { key: string; partition?: number }[];
  partitioner: (args: { message: { key: string; partition?: number } }) => number;
}) => Record<string, { key: string }[]>;
type Message = {
  offset: string;
  key: Buffer | null;
  batchContext: { producerId: string; inTransaction: boolean };
};
const filterAbortedMessages = require('kafkajs/src/consumer/filterAbortedMessages') as (args: {
  messages: Message[];
  abortedTransactions: { firstOffset: string; producerId: string }[];
}) => Message[];

/** The protocol's unsigned LEB128, written out here independently of kafkajs. */
function leb128(value: bigint): number[] {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}
const zigzag32 = (value: number) => leb128(BigInt(((value << 1) ^ (value >> 31)) >>> 0));
const zigzag64 = (value: bigint) => leb128(BigInt.asUintN(64, (value << 1n) ^ (value >> 63n)));

describe('the patched kafkajs encoder', () => {
  it('writes zig-zag varints and varlongs byte for byte as the protocol defines them', () => {
    const ints = [0, -1, 1, 63, -64, 64, 300, -301, 16_383, 16_384, 2 ** 31 - 1, -(2 ** 31), 123_456_789];
    const longs = [0n, -1n, 1n, 1_796_145_438_877n, -1_796_145_438_877n, 2n ** 63n - 1n, -(2n ** 63n)];
    const encoder = new Encoder(1);
    const expected: number[] = [];
    for (const value of ints) {
      encoder.writeVarInt(value);
      expected.push(...zigzag32(value));
      encoder.writeUVarInt(value >>> 0);
      expected.push(...leb128(BigInt(value >>> 0)));
    }
    for (const value of longs) {
      encoder.writeVarLong(value.toString());
      expected.push(...zigzag64(value));
    }
    expect([...encoder.buffer]).toEqual(expected);
  });

  it('hands out exactly the bytes written, across growth of its unzeroed buffer', () => {
    const encoder = new Encoder(4);
    const value = Buffer.from('x'.repeat(1_000));
    encoder.writeInt32(7).writeVarIntBytes(value).writeVarInt(-2);
    expect([...encoder.buffer]).toEqual([0, 0, 0, 7, ...zigzag32(1_000), ...value, ...zigzag32(-2)]);
  });
});

describe('the patched kafkajs producer', () => {
  it("groups a send's messages by partition in one pass, each partition's messages in their order", () => {
    const messages = Array.from({ length: 2_000 }, (_, i) => ({ key: `k${i}`, partition: (i * 7) % 5 }));
    const grouped = groupMessagesPerPartition({
      topic: 't',
      partitionMetadata: [{}, {}, {}, {}, {}],
      messages,
      partitioner: ({ message }) => message.partition as number,
    });
    expect(Object.keys(grouped).sort()).toEqual(['0', '1', '2', '3', '4']);
    for (const [partition, inPartition] of Object.entries(grouped))
      expect(inPartition).toEqual(messages.filter((message) => message.partition === Number(partition)));
    expect(
      groupMessagesPerPartition({ topic: 't', partitionMetadata: [], messages, partitioner: () => 0 }),
    ).toEqual({});
  });
});

describe('the patched kafkajs read_committed filter', () => {
  it('drops an aborted transaction that began before, but was aborted after, another one', () => {
    // Offsets 0–1: producer A's transaction, aborted at 4; 2: producer B's, aborted at 3. The broker
    // lists them in abort order (B, then A); unpatched, A's records 0–1 were handed out.
    const record = (offset: number, producerId: string, marker = false): Message => ({
      offset: String(offset),
      key: marker ? Buffer.from([0, 0, 0, 0]) : Buffer.from('k'),
      batchContext: { producerId, inTransaction: true },
    });
    const messages = [
      record(0, 'A'),
      record(1, 'A'),
      record(2, 'B'),
      record(3, 'B', true),
      record(4, 'A', true),
      record(5, 'C'),
    ];
    const kept = filterAbortedMessages({
      messages,
      abortedTransactions: [
        { firstOffset: '2', producerId: 'B' },
        { firstOffset: '0', producerId: 'A' },
      ],
    });
    expect(
      kept.filter((message) => !message.key?.equals(Buffer.from([0, 0, 0, 0]))).map((m) => m.offset),
    ).toEqual(['5']);
  });
});
