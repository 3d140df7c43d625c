/**
 * The shards this process holds, with the epoch it got when it claimed each one. With Kafka
 * (sharding `kafka-partitions`) a shard is an input partition; the member assigned partition p
 * claims shard p, which bumps the shard's epoch in Redis (claimShard-1.lua). Every write for the
 * shard then carries the epoch and is checked in the same script, so a member that lost p — paused
 * past its session timeout, or slow to notice the rebalance — can neither commit, nor delete
 * outbox rows, nor add dead letters for p: its epoch is older than its successor's.
 */
import { ShardFencedError } from '../../core/errors.ts';

export class ShardClaims {
  private readonly epochs = new Map<number, string>();

  constructor(private readonly owner: string) {}

  get ownerName(): string {
    return this.owner;
  }

  /** Records the epoch a claim answered. */
  hold(shard: number, epoch: number): void {
    this.epochs.set(shard, String(epoch));
  }

  /** Forgets a shard (its partition was revoked); later writes for it fail without reaching Redis. */
  release(shard: number): void {
    this.epochs.delete(shard);
  }

  /** Shards held now, ascending. */
  held(): number[] {
    return [...this.epochs.keys()].sort((a, b) => a - b);
  }

  has(shard: number): boolean {
    return this.epochs.has(shard);
  }

  /** The epoch to send with a write for the shard; throws when the shard is not held. */
  epochFor(shard: number): string {
    const epoch = this.epochs.get(shard);
    if (epoch === undefined) throw notHeld(shard);
    return epoch;
  }

  /** The error for a write Redis refused because another member claimed the shard since. */
  fenced(shard: number): ShardFencedError {
    const epoch = this.epochs.get(shard) ?? 'none';
    this.epochs.delete(shard);
    return new ShardFencedError(
      shard,
      `shard ${shard} was claimed by another member after this one (whose epoch was ${epoch}): ` +
        'the partition was reassigned while this process was paused or slow; nothing was written for it',
    );
  }
}

function notHeld(shard: number): ShardFencedError {
  return new ShardFencedError(
    shard,
    `shard ${shard} is not held by this process (its input partition is assigned to another member); nothing was written for it`,
  );
}
