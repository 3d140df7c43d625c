/**
 * The Redis sharding of the Kafka runtime: one shard per input partition. An entity's shard is the
 * partition Kafka's default partitioner gives its key (the record key is the envelope's key, which
 * the runtime checks), so the member that holds partition p decides, publishes and sweeps exactly
 * the entities, outbox rows and dead letters of shard p, and one decision's commit stays in one
 * hash slot. A dead letter for a record that names no usable entity goes to its source partition.
 */
import type { Sharding } from './keys.ts';
import { partitionOfKey } from './partition-of-key.ts';

export const KAFKA_SHARDING = 'kafka-partitions';

export function kafkaPartitionSharding(partitions: number): Sharding {
  return {
    kind: KAFKA_SHARDING,
    shardOf: (ref) => partitionOfKey(ref.key, partitions),
    shardOfSource: (source) => {
      const partition = source?.partition;
      return typeof partition === 'number' ? partition : undefined;
    },
  };
}
