import { Partitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { partitionOfKey } from '../../../../src/store/redis/partition-of-key.ts';

/** What kafkajs's producer would pick for this key, with `count` partitions. */
function kafkajsPartition(key: string, count: number): number {
  const partitioner = Partitioners.DefaultPartitioner();
  const partitionMetadata = Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    partitionErrorCode: 0,
    replicas: [0],
    isr: [0],
  }));
  return partitioner({ topic: 't', partitionMetadata, message: { key, value: 'v' } });
}

describe('partitionOfKey', () => {
  it('puts every key on the partition kafkajs (and Java) producers choose for it', () => {
    const keys = ['', 'a', 'ab', 'abc', 'abcd', 'loan-42', 'clé-ünïcode-😀', 'x'.repeat(97)];
    for (let i = 0; i < 500; i += 1) keys.push(`entity-${i * 7919}`);
    for (const count of [1, 2, 3, 6, 7, 12, 64]) {
      for (const key of keys)
        expect(partitionOfKey(key, count), `${key} over ${count}`).toBe(kafkajsPartition(key, count));
    }
  });

  it('matches the Java client on known keys (Utils.murmur2 reference values)', () => {
    // Apache Kafka's own test (UtilsTest.testMurmur2): "21" hashes to -973932308.
    expect(partitionOfKey('21', 0x7fffffff)).toBe(-973932308 & 0x7fffffff);
  });
});
