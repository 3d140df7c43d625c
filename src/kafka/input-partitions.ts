/**
 * Checks at start that the input topics are co-partitioned (the same partition count: partition p
 * of every input topic is one shard in Redis, owned by one member) and answers that count.
 */
import type { Admin } from 'kafkajs';
import { InvalidConfigError } from '../core/errors.ts';

export async function inputPartitionCount(admin: Admin, topics: readonly string[]): Promise<number> {
  let metadata;
  try {
    metadata = await admin.fetchTopicMetadata({ topics: [...topics] });
  } catch (error) {
    throw new InvalidConfigError(
      `could not read the partitions of the input topics ${topics.join(', ')} (do they exist? set createTopics to create them)`,
      error,
    );
  }
  const counts = metadata.topics.map((topic) => ({ topic: topic.name, partitions: topic.partitions.length }));
  const distinct = new Set(counts.map((entry) => entry.partitions));
  if (distinct.size !== 1 || counts.length === 0) {
    throw new InvalidConfigError(
      `the input topics must be co-partitioned (the same partition count), since partition p of every input topic ` +
        `is one shard of the Redis store, owned by one member: ${counts.map((c) => `${c.topic} has ${c.partitions}`).join(', ')}. ` +
        'Repartition the topics to one count, or run one gatekeeper group per topic with its own prefix.',
    );
  }
  return counts[0]?.partitions as number;
}
