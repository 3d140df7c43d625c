/**
 * The eachBatch handler: hands the records of one partition's batch to the gatekeeper in offset
 * order (its mailboxes keep per-key order while different keys are decided concurrently), resolves
 * an offset only once that record and every one before it are durably committed in the store,
 * heartbeats as it goes, and commits the resolved offsets before returning.
 *
 * A record the gatekeeper refuses (not JSON, wrong schema, key mismatch, illegal) is a dead
 * letter, written by the same store commit, so it is "decided" like any other and never stalls
 * the partition. Only a store failure fails the batch: the handler stops feeding, lets what is in
 * flight finish, resolves what finished, and rethrows; kafkajs retries from the first unresolved
 * record (the gatekeeper drops the redelivered duplicates).
 *
 * Back-pressure: when the store refuses a decision because its unpublished dead letters reached
 * their bound (DeadLettersFullError: nothing was written), the handler stops feeding, lets what is
 * in flight finish, waits for the relay while heartbeating, and hands the refused records again,
 * in offset order, before going on. A flood of garbage slows the partition; it never loses a letter.
 */
import type { EachBatchPayload } from 'kafkajs';
import type { Gatekeeper, HandleResult } from '../gatekeeper/gatekeeper.ts';
import type { MetricsSink } from './metrics.ts';
import { DeadLettersFullError } from '../store/dead-letters-full-error.ts';
import { OffsetTracker } from './offset-tracker.ts';
import { decodeRecord, type SourceCoordinates } from './record.ts';

export interface BatchHandlerOptions {
  gatekeeper: Gatekeeper;
  metrics: MetricsSink;
  /** Records decided at once within a batch. */
  maxInFlight: number;
  /** Heartbeat at most this often while a batch runs (kafkajs throttles further). */
  heartbeatEveryMs?: number;
  /** How long to wait before handing records refused by back-pressure again (default 100 ms). */
  backPressureWaitMs?: number;
  /** Called when back-pressure starts holding a partition (at most once per batch). */
  onBackPressure?(error: DeadLettersFullError): void;
  /** Awaited before a batch of the partition is decided (the member's claim on the partition's shard). */
  beforeBatch?(topic: string, partition: number): Promise<void>;
  /**
   * Why a record key may not be decided on this partition (its entity lives in another partition's
   * shard), or undefined when it may. Such a record is dead-lettered as a key mismatch.
   */
  misplaced?(key: string, partition: number): string | undefined;
}

type KafkaMessage = EachBatchPayload['batch']['messages'][number];

/** Longest stretch a batch keeps the event loop to itself. */
const YIELD_EVERY_MS = 20;
/** How often a running batch reports its partition's lag. */
const LAG_EVERY_MS = 200;

/** Builds the function given to `consumer.run({ eachBatch, eachBatchAutoResolve: false })`. */
export function createBatchHandler(
  options: BatchHandlerOptions,
): (payload: EachBatchPayload) => Promise<void> {
  const { gatekeeper, metrics, maxInFlight } = options;
  const heartbeatEveryMs = options.heartbeatEveryMs ?? 500;
  const backPressureWaitMs = options.backPressureWaitMs ?? 100;

  // async: a synchronous throw (a closed gatekeeper) becomes a rejection like any other failure.
  const decide = async (topic: string, partition: number, message: KafkaMessage): Promise<HandleResult> => {
    const decoded = decodeRecord(topic, partition, message);
    // Kept with the event in the store, so its dead letter names the record whoever publishes it.
    const source: SourceCoordinates = { topic, partition, offset: message.offset };
    const key = message.key === null ? undefined : message.key.toString('utf8');
    if (key !== undefined) source.key = key;
    if (decoded.kind === 'unparseable')
      return gatekeeper.rejectUnparseable(decoded.raw, decoded.detail, source);
    if (decoded.kind === 'key-mismatch')
      return gatekeeper.rejectInput(decoded.input, 'key-mismatch', decoded.detail, source);
    const wrongPartition = key === undefined ? undefined : options.misplaced?.(key, partition);
    if (wrongPartition !== undefined)
      return gatekeeper.rejectInput(decoded.input, 'key-mismatch', wrongPartition, source);
    return gatekeeper.handle(decoded.input, source);
  };

  return async (payload) => {
    const { batch } = payload;
    const { topic, partition } = batch;
    if (options.beforeBatch) await options.beforeBatch(topic, partition);
    const started = performance.now();
    // The backlog this batch starts from (reported again, smaller, when the batch is done).
    metrics.lag(
      topic,
      partition,
      Math.max(0, Number(batch.highWatermark) - Number(batch.firstOffset() ?? batch.highWatermark)),
    );
    const tracker = new OffsetTracker();
    let failure: { error: unknown } | undefined;
    /** Records the store refused for back-pressure, to hand again (with their tickets). */
    let refused: { message: KafkaMessage; ticket: number }[] = [];
    let pressureReported = false;
    let inFlight = 0;
    /** Records handed to the gatekeeper (fewer than the batch when it stops early). */
    let handed = 0;
    let wake: (() => void) | undefined;
    let lastBeat = started;
    let lastYield = started;
    let lastLag = started;
    const high = Number(batch.highWatermark);

    const settled = () => {
      inFlight -= 1;
      wake?.();
    };
    const waitForOne = () =>
      new Promise<void>((resolve) => {
        wake = resolve;
      });
    /** Resolves what became resolvable and heartbeats now and then; a rebalance ends the batch. */
    const progress = async () => {
      const offset = tracker.advance();
      let now = performance.now();
      if (offset !== undefined) {
        payload.resolveOffset(offset);
        if (now - lastLag >= LAG_EVERY_MS) {
          lastLag = now;
          metrics.lag(topic, partition, Math.max(0, high - Number(offset) - 1));
        }
      }
      if (now - lastYield >= YIELD_EVERY_MS) {
        // With a fast store every decision settles in microtasks, and a batch of thousands would
        // keep timers and I/O (the relays, heartbeat replies) waiting until it ends.
        await new Promise<void>((resolve) => setImmediate(resolve));
        now = performance.now();
        lastYield = now;
      }
      if (failure === undefined && now - lastBeat >= heartbeatEveryMs) {
        lastBeat = now;
        try {
          await payload.heartbeat();
        } catch (error) {
          // Usually "rebalancing": stop feeding, finish what is in flight, then let kafkajs rejoin.
          failure = { error };
        }
      }
    };

    const hand = (message: KafkaMessage, ticket: number) => {
      inFlight += 1;
      decide(topic, partition, message).then(
        () => {
          tracker.complete(ticket);
          settled();
        },
        (error: unknown) => {
          if (error instanceof DeadLettersFullError) {
            refused.push({ message, ticket });
            if (!pressureReported) {
              pressureReported = true;
              options.onBackPressure?.(error);
            }
          } else failure ??= { error };
          settled();
        },
      );
    };
    const drain = async () => {
      while (inFlight > 0) {
        await waitForOne();
        await progress();
      }
    };
    const canGoOn = () => failure === undefined && payload.isRunning() && !payload.isStale();
    /** Waits for room, then hands the refused records again in offset order; false when stopping. */
    const retryRefused = async (): Promise<boolean> => {
      while (refused.length > 0) {
        await drain();
        if (!canGoOn()) return false;
        await new Promise((resolve) => setTimeout(resolve, backPressureWaitMs));
        await progress(); // heartbeats meanwhile
        const again = refused.sort((a, b) => a.ticket - b.ticket);
        refused = [];
        for (const { message, ticket } of again) {
          if (!canGoOn()) return false;
          while (inFlight >= maxInFlight && failure === undefined) {
            await waitForOne();
            await progress();
          }
          hand(message, ticket);
        }
      }
      return true;
    };

    for (const message of batch.messages) {
      if (!canGoOn()) break;
      while (inFlight >= maxInFlight && failure === undefined) {
        await waitForOne();
        await progress();
      }
      if (failure !== undefined) break;
      if (refused.length > 0 && !(await retryRefused())) break;
      const ticket = tracker.track(message.offset);
      handed += 1;
      if ((ticket & 127) === 127) await progress();
      hand(message, ticket);
    }
    // Refusals can still arrive from the last decisions in flight: retry until none is left.
    await drain();
    while (refused.length > 0 && canGoOn()) {
      await retryRefused();
      await drain();
    }
    await progress();

    const resolved = tracker.resolved;
    if (resolved !== undefined)
      metrics.lag(topic, partition, Math.max(0, Number(batch.highWatermark) - Number(resolved) - 1));
    metrics.batch(topic, partition, handed, performance.now() - started);
    if (failure !== undefined) throw failure.error; // kafkajs commits the resolved offsets, then retries
    // Commit now rather than on a timer: a stop or a rebalance right after this batch then
    // reprocesses nothing, and kafkajs never commits on stop() by itself.
    const uncommitted = payload.uncommittedOffsets();
    if (uncommitted.topics.some((entry) => entry.partitions.length > 0))
      await payload.commitOffsetsIfNecessary(uncommitted);
  };
}
