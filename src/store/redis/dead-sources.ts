/**
 * Which input record an entity-less dead letter came from, so recordDeadLetter-4.lua keeps one
 * letter per record however often a crash makes Kafka deliver it again.
 */
import type { DeadLetter } from '../../core/outcome.ts';

/**
 * How many offsets behind a partition's newest entity-less dead letter its input record is still
 * remembered (recordDeadLetter-4.lua): far more than a member ever holds uncommitted, so a record
 * delivered again after a crash always finds its first letter.
 */
export const DEAD_SOURCE_WINDOW = 1_000_000;

/** The Kafka record a dead letter came from (topic, partition, numeric offset), when it says. */
export function inputRecordOf(
  source: DeadLetter['source'],
): { topic: string; partition: number; offset: string } | undefined {
  const topic = source?.topic;
  const partition = source?.partition;
  const offset = source?.offset;
  if (typeof topic !== 'string' || typeof partition !== 'number') return undefined;
  const digits = String(offset);
  return /^\d+$/.test(digits) ? { topic, partition, offset: digits } : undefined;
}
