/**
 * The relays of a member without partition ownership (an in-memory store, or one the caller
 * gave): one output relay and one dead-letter relay publish the rows of the whole store. With a
 * store the group shares, each owned partition has relays of its own instead (partition-relays.ts).
 */
import type { Producer } from 'kafkajs';
import type { AppliedTransition, DeadLetter } from '../core/outcome.ts';
import type { EntityStore } from '../store/entity-store.ts';
import type { RunConfig } from './config.ts';
import type { RunLogger } from './kafka-client.ts';
import { describeKafkaError } from './kafka-errors.ts';
import type { MetricsSink } from './metrics.ts';
import { deadLetterMessage, minimalDeadLetterMessage, outputMessage } from './output-records.ts';
import { publishRows } from './publish.ts';
import { Relay } from './relay.ts';

export interface ProcessRelayContext {
  /** The store the relays read (the relays' own connection, see run-stores.ts). */
  store: EntityStore;
  /** The producer they publish through, made once the relays exist. */
  producer(): Producer;
  config: RunConfig;
  log: RunLogger;
  metrics: MetricsSink;
}

export interface ProcessRelays {
  output: Relay<AppliedTransition>;
  deadLetters: Relay<DeadLetter>;
  /** The relays to run: no output relay without an output topic. */
  running: Relay<AppliedTransition | DeadLetter>[];
}

/** Builds (not starts) the process's relays. */
export function processRelays(context: ProcessRelayContext): ProcessRelays {
  const { store, config, log, metrics } = context;
  const outputTopic = config.topics.output;
  const output = new Relay<AppliedTransition>({
    kind: 'output',
    read: (limit) => store.readOutbox(limit),
    ack: (ids) => store.ackOutbox(ids),
    publish: (rows) =>
      publishRows({
        producer: context.producer(),
        topic: outputTopic as string,
        rows,
        full: (row) => outputMessage(row.value),
        reduced: (row, reason) => outputMessage(row.value, reason),
        onRefused: (reason) =>
          log('warn', `the broker refused an output record (${reason}); sent without its payload`),
      }),
    ...relayLimits(config),
    metrics,
    onError: relayErrorLog(log, 'output', String(outputTopic)),
  });
  const deadLetters = new Relay<DeadLetter>({
    kind: 'dead-letter',
    read: (limit) => store.readDeadLetters(limit),
    ack: (ids) => store.ackDeadLetters(ids),
    publish: (rows) =>
      publishRows({
        producer: context.producer(),
        topic: config.topics.deadLetter,
        rows,
        full: (row) => deadLetterMessage(row),
        reduced: (row, reason) => deadLetterMessage(row, reason),
        minimal: (row, reason) => minimalDeadLetterMessage(row, reason),
        onRefused: (reason) =>
          log('warn', `the broker refused a dead-letter record (${reason}); sent without the event`),
      }),
    ...relayLimits(config),
    metrics,
    onError: relayErrorLog(log, 'dead-letter', config.topics.deadLetter),
  });
  return { output, deadLetters, running: outputTopic === false ? [deadLetters] : [output, deadLetters] };
}

/** One warning per relay per 10 s while publishing keeps failing (it retries with back-off). */
function relayErrorLog(log: RunLogger, kind: string, topic: string): (error: unknown) => void {
  let last = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < 10_000) return;
    last = now;
    log('warn', `publishing to the ${kind} topic "${topic}" failed, retrying: ${describeKafkaError(error)}`);
  };
}

function relayLimits(config: RunConfig) {
  return {
    batchSize: config.limits.relayBatchSize,
    idleMs: config.limits.relayIdleMs,
    maxBackoffMs: config.limits.relayMaxBackoffMs,
  };
}
