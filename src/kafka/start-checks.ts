/**
 * The steps a member takes against the broker before it consumes: reading (and creating) the
 * topics, counting the input partitions, connecting the clients. kafkajs reports a failed step as
 * a retry trail without saying which step it was; here each becomes one line naming the brokers,
 * the step and the cause.
 */
import type { Kafka } from 'kafkajs';
import { GatekeeperError } from '../core/errors.ts';
import type { RunConfig } from './config.ts';
import { inputPartitionCount } from './input-partitions.ts';
import { prepareTopics, type RunLogger } from './kafka-client.ts';
import { describeKafkaError, KafkaStartError } from './kafka-errors.ts';

/** Runs one start-up step; a kafkajs failure becomes one line naming the brokers and the cause. */
export async function startStep(
  config: RunConfig,
  what: string,
  step: () => Promise<unknown>,
): Promise<void> {
  try {
    await step();
  } catch (error) {
    if (error instanceof GatekeeperError) throw error;
    throw new KafkaStartError(
      `cannot start on Kafka ${config.brokers.join(',')}: ${what} failed: ${describeKafkaError(error)}`,
      error,
    );
  }
}

/** Creates the missing topics the config allows, then checks that the input topics exist. */
export function readTopics(kafka: Kafka, config: RunConfig, log: RunLogger): Promise<void> {
  return startStep(config, 'reading the topics', () => prepareTopics(kafka, config, log));
}

/** The input topics' partition count, checked to be the same for all of them (co-partitioned). */
export async function countInputPartitions(kafka: Kafka, config: RunConfig): Promise<number> {
  let partitions: number | undefined;
  await startStep(config, 'counting the input partitions', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      partitions = await inputPartitionCount(admin, config.topics.input);
    } finally {
      await admin.disconnect();
    }
  });
  return partitions as number;
}
