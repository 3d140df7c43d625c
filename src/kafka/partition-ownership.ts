/**
 * Ownership follows the consumer group's assignment. With a shared Redis store, shard p holds the
 * entities, outbox rows and dead letters of input partition p; the member assigned p claims shard
 * p (which fences every earlier claimant, see store/redis/shard-claims.ts), decides p's records,
 * and runs p's two relays, so publishing scales with the group and nobody publishes rows of a
 * partition it does not hold. On each new assignment the partitions it lost are released (their
 * relays stop without a last round: the new owner publishes) and the new ones are claimed before
 * their first batch is decided.
 */
import { GatekeeperError, messageOf } from '../core/errors.ts';
import { within } from './within.ts';

/** Longest a batch waits for its partition's claim before kafkajs is asked to retry it. */
const READY_WAIT_MS = 5_000;
import type { OwnedShards } from '../store/redis/owned-shards.ts';
import type { MetricsSink } from './metrics.ts';
import type { Relay } from './relay.ts';

/** The relays of one partition (no output relay with `topics.output: false`). */
export interface PartitionRelays {
  output: Relay<unknown> | undefined;
  deadLetters: Relay<unknown>;
  /** Before the relays start: exactly-once recovery (fence the previous producer, apply its checkpoint). */
  prepare?(): Promise<void>;
  /** After the relays stopped: releases their producers. */
  close?(): Promise<void>;
}

export interface PartitionOwnershipOptions {
  owned: OwnedShards;
  /** The store's shard count: the input topics' partition count when the namespace was made. */
  shards: number;
  /** Builds (not starts) the relays of one partition. */
  relays(partition: number): PartitionRelays;
  log(level: 'info' | 'warn' | 'error', message: string, extra?: Record<string, unknown>): void;
  metrics: MetricsSink;
  /** The transition handler's runners, one per owned partition (fenced by the shard's claim). */
  effects?: { start(partition: number): void; stop(partition: number): Promise<void> };
  /** Called with a non-retriable error when the assignment cannot be served (a partition past the shards). */
  fatal(error: GatekeeperError): void;
}

export class PartitionOwnership {
  private readonly relays = new Map<number, PartitionRelays>();
  private releasedOutput = 0;
  private releasedDead = 0;
  /** Per assigned partition: the claim in progress or done for the current assignment. */
  private claims = new Map<number, Promise<void>>();
  private assignment: number[] = [];
  /** Per partition: the last start or stop of its effect runner, so they happen one after another. */
  private readonly effectSteps = new Map<number, Promise<void>>();
  /** Bumped by each assignment and by stop(): a take started for an older one gives up. */
  private generation = 0;
  /** Set by stop(): later assignments are ignored, so nothing claims or publishes after it. */
  private stopped = false;

  constructor(private readonly options: PartitionOwnershipOptions) {}

  /** Partitions this member holds now (assigned and claimed), ascending. */
  get partitions(): number[] {
    return this.options.owned.held();
  }

  /**
   * A new assignment (kafkajs GROUP_JOIN): releases what was lost, then claims every assigned
   * partition again — even one kept across the rebalance, since this member may have been paused
   * while another claimed it.
   */
  assign(partitions: readonly number[]): void {
    // A rebalance while the member stops (another member left at the same time) must not start
    // relays, and their producers, that no stop would ever close.
    if (this.stopped) return;
    const { owned, shards } = this.options;
    const log = this.options.log.bind(this.options);
    const next = [...new Set(partitions)].sort((a, b) => a - b);
    const beyond = next.filter((partition) => partition >= shards);
    if (beyond.length > 0) {
      this.options.fatal(
        new GatekeeperError(
          `the input topics have more partitions than the Redis store's ${shards} shards (assigned ${beyond.join(', ')}): ` +
            'the partition count changed since the store was created. Stop every member and run `gatekeeper reshard` (docs/kafka.md).',
          { code: 'PARTITION_COUNT_CHANGED' },
        ),
      );
      return;
    }
    const lost = this.assignment.filter((partition) => !next.includes(partition));
    for (const partition of lost) {
      owned.release(partition);
      this.stopEffects(partition);
      const relays = this.relays.get(partition);
      this.relays.delete(partition);
      if (relays) void this.retire(relays);
    }
    this.assignment = next;
    const generation = (this.generation += 1);
    const previous = this.claims;
    // One take at a time per partition: a second assignment's take waits for the first one's.
    this.claims = new Map(
      next.map((partition) => [
        partition,
        (previous.get(partition) ?? Promise.resolve()).then(() => this.take(partition, generation)),
      ]),
    );
    log(
      'info',
      `assigned partitions ${next.join(', ') || '(none)'}; released ${lost.join(', ') || '(none)'}`,
      {
        partitions: next,
        released: lost,
      },
    );
    this.options.metrics.ownedPartitions(next);
  }

  /**
   * Resolves once the partition is claimed for the current assignment. Rejects (retriable) when
   * that takes longer than `READY_WAIT_MS`, so kafkajs retries the batch from its own loop (which
   * heartbeats) instead of waiting here past the session timeout.
   */
  async ready(partition: number): Promise<void> {
    const claim = this.claims.get(partition);
    if (claim === undefined) return; // not assigned (any more): its writes are refused by the fence
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), READY_WAIT_MS);
    });
    const result = await Promise.race([claim.then(() => 'ready' as const), waited]);
    clearTimeout(timer);
    if (result === 'late')
      throw new GatekeeperError(
        `partition ${partition} is not claimed yet (the store or the broker is slow); retrying`,
        {
          code: 'PARTITION_NOT_READY',
          retriable: true,
        },
      );
  }

  /**
   * Claims the partition's shard, replaces its relays (fresh ones for every claim: a kept
   * partition's old relays and producers may have been fenced while this member was paused),
   * prepares and starts them. Tried again with back-off until it succeeds or a newer assignment
   * supersedes it; never rejects.
   */
  private async take(partition: number, generation: number): Promise<void> {
    const owned = this.options.owned;
    const log = this.options.log.bind(this.options);
    for (let attempt = 0; generation === this.generation; attempt += 1) {
      try {
        const epoch = await owned.claim(partition);
        log('info', `claimed partition ${partition} (epoch ${epoch})`, { partition, epoch });
        if (generation !== this.generation) return; // superseded or stopped meanwhile
        const previous = this.relays.get(partition);
        this.relays.delete(partition);
        if (previous) await this.retire(previous);
        const relays = this.options.relays(partition);
        try {
          await relays.prepare?.();
        } catch (error) {
          await relays.close?.().catch(() => undefined);
          throw error;
        }
        if (generation !== this.generation) {
          await relays.close?.().catch(() => undefined);
          return;
        }
        this.relays.set(partition, relays);
        relays.output?.start();
        relays.deadLetters.start();
        this.restartEffects(partition, generation);
        return;
      } catch (error) {
        if (generation !== this.generation) return;
        this.options.metrics.retry(`claim partition ${partition}`, error);
        log('warn', `could not take partition ${partition} (${messageOf(error)}); trying again`, {
          partition,
        });
        await new Promise((resolve) => setTimeout(resolve, Math.min(5_000, 200 * 2 ** attempt)));
      }
    }
  }

  /**
   * A fresh effect runner for every claim, like the relays (a kept partition may have been taken
   * and given back while this member was paused), started only once the previous one stopped, so
   * two runners never run one partition's effects at once. Not awaited by the claim: stopping
   * waits for running handlers, and the partition's records need not wait for that.
   */
  private restartEffects(partition: number, generation: number): void {
    const effects = this.options.effects;
    if (!effects) return;
    this.chainEffects(partition, async () => {
      await effects.stop(partition);
      if (generation === this.generation && this.assignment.includes(partition)) effects.start(partition);
    });
  }

  private stopEffects(partition: number): void {
    const effects = this.options.effects;
    if (effects) this.chainEffects(partition, () => effects.stop(partition));
  }

  private chainEffects(partition: number, step: () => Promise<void>): void {
    const previous = this.effectSteps.get(partition) ?? Promise.resolve();
    this.effectSteps.set(
      partition,
      previous.then(step).catch(() => undefined),
    );
  }

  /** Stops a partition's relays without a last round (the partition's next owner publishes) and closes them. */
  private async retire(relays: PartitionRelays): Promise<void> {
    await stopRelays(relays, 0);
    await relays.close?.().catch(() => undefined);
    this.releasedOutput += relays.output?.total ?? 0;
    this.releasedDead += relays.deadLetters.total;
  }

  /** Wakes the relays of one partition (a decision committed rows there). */
  wake(partition: number, kind: 'output' | 'dead-letter'): void {
    const relays = this.relays.get(partition);
    if (!relays) return;
    (kind === 'output' ? relays.output : relays.deadLetters)?.wake();
  }

  /** Wakes every relay (a dead letter of unknown partition, a reconnect). */
  wakeAll(): void {
    for (const relays of this.relays.values()) {
      relays.output?.wake();
      relays.deadLetters.wake();
    }
  }

  /** Rows published by this member's relays, current and released. */
  published(): { output: number; deadLetters: number } {
    let output = this.releasedOutput;
    let deadLetters = this.releasedDead;
    for (const relays of this.relays.values()) {
      output += relays.output?.total ?? 0;
      deadLetters += relays.deadLetters.total;
    }
    return { output, deadLetters };
  }

  /** Stops every relay after publishing what its partition still holds (up to `timeoutMs`); true when all were emptied. */
  async stop(timeoutMs: number): Promise<boolean> {
    this.stopped = true;
    // A take still claiming or preparing now sees a newer generation: it closes what it prepared
    // and starts nothing (before, it could start relays after this stop had collected them).
    this.generation += 1;
    const takes = [...this.claims.values()];
    const all = [...this.relays.values()];
    const results = await Promise.all(all.map((relays) => stopRelays(relays, timeoutMs)));
    for (const relays of all) await relays.close?.().catch(() => undefined);
    for (const relays of all) {
      this.releasedOutput += relays.output?.total ?? 0;
      this.releasedDead += relays.deadLetters.total;
    }
    this.relays.clear();
    // Takes never reject; wait (within the stop's time) until they have closed their producers.
    await within(Promise.all(takes), timeoutMs);
    return results.every(Boolean);
  }
}

async function stopRelays(relays: PartitionRelays, timeoutMs: number): Promise<boolean> {
  if (timeoutMs === 0) {
    relays.output?.setActive(false);
    relays.deadLetters.setActive(false);
  }
  const [output, dead] = await Promise.all([
    relays.output ? relays.output.stop(timeoutMs) : true,
    relays.deadLetters.stop(timeoutMs),
  ]);
  return output && dead;
}
