/**
 * The partition Kafka's default partitioner gives a record key: murmur2 of the key's UTF-8 bytes,
 * made positive, modulo the partition count (Java's `Utils.murmur2` / `toPositive`, which kafkajs's
 * DefaultPartitioner copies). With Kafka, an entity's shard in Redis is the input partition its key
 * lands on, so every member computes the same owner for an entity from its key alone.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Java's 32-bit murmur2, as Kafka clients compute it. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = SEED ^ length;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k =
      (data[i] as number) |
      ((data[i + 1] as number) << 8) |
      ((data[i + 2] as number) << 16) |
      ((data[i + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const rest = length & 3;
  if (rest === 3) h ^= (data[whole + 2] as number) << 16;
  if (rest >= 2) h ^= (data[whole + 1] as number) << 8;
  if (rest >= 1) {
    h ^= data[whole] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** The partition of a record key among `partitions` under Kafka's default (murmur2) partitioner. */
export function partitionOfKey(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key, 'utf8')) & 0x7fffffff) % partitions;
}
