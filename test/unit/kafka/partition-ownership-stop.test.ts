import { describe, expect, it, vi } from 'vitest';
import type { OwnedShards } from '../../../src/store/redis/owned-shards.ts';
import { MetricsSink } from '../../../src/kafka/metrics.ts';
import { PartitionOwnership, type PartitionRelays } from '../../../src/kafka/partition-ownership.ts';
import { Relay } from '../../../src/kafka/relay.ts';

function deferred<TValue>() {
  let resolve!: (value: TValue) => void;
  const promise = new Promise<TValue>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/** An ownership whose claims and exactly-once preparation finish only when the test says so. */
function setUp() {
  const claim = deferred<number>();
  const prepare = deferred<undefined>();
  const claimed: number[] = [];
  const owned = {
    owner: 'test',
    claim: (shard: number) => {
      claimed.push(shard);
      return claim.promise;
    },
    release: () => undefined,
    held: () => [],
  } as unknown as OwnedShards;
  const metrics = new MetricsSink();
  const relay = () =>
    new Relay<unknown>({
      kind: 'output',
      read: () => Promise.resolve([]),
      ack: () => Promise.resolve(),
      publish: () => Promise.resolve(),
      batchSize: 10,
      idleMs: 10,
      maxBackoffMs: 10,
      metrics,
    });
  const built: {
    relays: PartitionRelays;
    start: ReturnType<typeof vi.fn>;
    close: ReturnType<typeof vi.fn>;
  }[] = [];
  const ownership = new PartitionOwnership({
    owned,
    shards: 6,
    relays: () => {
      const output = relay();
      const deadLetters = relay();
      const start = vi.fn();
      output.start = start;
      deadLetters.start = start;
      const close = vi.fn(() => Promise.resolve());
      const relays: PartitionRelays = { output, deadLetters, prepare: () => prepare.promise, close };
      built.push({ relays, start, close });
      return relays;
    },
    log: () => undefined,
    metrics,
    fatal: () => undefined,
  });
  return { ownership, claim, prepare, claimed, built };
}

describe('partition ownership while stopping', () => {
  it('a partition still being prepared when stop() begins never starts its relays, and its producers are closed', async () => {
    const { ownership, claim, prepare, built } = setUp();
    ownership.assign([0]);
    claim.resolve(1);
    await vi.waitFor(() => expect(built).toHaveLength(1));
    const stopped = ownership.stop(1_000);
    prepare.resolve(undefined);
    await stopped;
    expect(built[0]?.start).not.toHaveBeenCalled();
    expect(built[0]?.close).toHaveBeenCalled();
    expect(ownership.published()).toEqual({ output: 0, deadLetters: 0 });
  });

  it('a claim answered after stop() builds no relays at all', async () => {
    const { ownership, claim, built } = setUp();
    ownership.assign([0]);
    const stopped = ownership.stop(1_000);
    claim.resolve(1);
    await stopped;
    expect(built).toHaveLength(0);
  });

  it('an assignment that arrives after stop() (a rebalance as another member leaves) claims nothing', async () => {
    const { ownership, claimed } = setUp();
    await ownership.stop(1_000);
    ownership.assign([0, 1, 2]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(claimed).toEqual([]);
  });
});
