import { describe, expect, it } from 'vitest';
import { CommitBatcher, type PendingCommit } from '../../../../src/store/redis/commit-batcher.ts';

const pending = (key: string): PendingCommit => ({
  stateKey: key,
  historyKey: `${key}:h`,
  args: [],
  resolve: () => undefined,
  reject: () => undefined,
});

describe('group commit batcher', () => {
  it('sends one batch per shard after the current turn, and a full batch at once', async () => {
    const sent: { shard: number; keys: string[] }[] = [];
    const batcher = new CommitBatcher(
      (shard, batch) => sent.push({ shard, keys: batch.map((commit) => commit.stateKey) }),
      3,
    );
    for (const key of ['a', 'b', 'c', 'd']) batcher.add(0, pending(key));
    batcher.add(5, pending('x'));
    expect(sent).toEqual([{ shard: 0, keys: ['a', 'b', 'c'] }]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent).toEqual([
      { shard: 0, keys: ['a', 'b', 'c'] },
      { shard: 0, keys: ['d'] },
      { shard: 5, keys: ['x'] },
    ]);
    batcher.add(0, pending('e'));
    await new Promise((resolve) => setImmediate(resolve));
    expect(sent.at(-1)).toEqual({ shard: 0, keys: ['e'] });
  });
});
