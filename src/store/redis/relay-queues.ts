/**
 * The streams a relay publishes from, across all shards: the outbox of applied transitions
 * (written by the commit path) and the dead letters, recorded here one at a time within the
 * store's per-shard bounds and fenced by the shard's claim when the store has claims.
 */
import type { AppliedTransition, DeadLetter } from '../../core/outcome.ts';
import type { QueuedItem } from '../entity-store.ts';
import { deadLetterJson } from './codec.ts';
import { DEAD_SOURCE_WINDOW, inputRecordOf } from './dead-sources.ts';
import { runScript, type RedisClient } from './scripts.ts';
import { ackStreams, readStreams } from './shard-reads.ts';
import type { ShardClaims } from './shard-claims.ts';
import { readOnlyError } from './store-gate.ts';
import type { StoreLayout } from './store-layout.ts';
import type { StoreOperations } from './store-operations.ts';

/** The outbox and dead-letter streams of one store, read and acknowledged across shards. */
export class RelayQueues {
  constructor(
    private readonly client: RedisClient,
    private readonly layout: StoreLayout,
    private readonly operations: StoreOperations,
    private readonly claims: ShardClaims | undefined,
    /** 1: trim the oldest dead letters past the bound (nobody relays them); 0: refuse at the bound. */
    private readonly deadLetterTrim: 0 | 1,
    private readonly readOnly: boolean,
  ) {}

  readOutbox(limit: number): Promise<QueuedItem<AppliedTransition>[]> {
    return this.operations.run('readOutbox', () =>
      readStreams<AppliedTransition>(this.client, this.layout.outboxKeys, limit, 'outbox'),
    );
  }

  ackOutbox(ids: readonly string[]): Promise<void> {
    if (this.readOnly) return Promise.reject(readOnlyError('ackOutbox'));
    return this.operations.run('ackOutbox', () => ackStreams(this.client, this.layout.outboxKeys, ids));
  }

  recordDeadLetter(letter: DeadLetter): Promise<void> {
    const layout = this.layout;
    const shardNumber = layout.keys.shardForDeadLetter(letter);
    const shard = layout.keys.shard(shardNumber);
    const json = deadLetterJson(letter);
    const claims = this.claims;
    const input = inputRecordOf(letter.source);
    return this.operations.run('recordDeadLetter', async () => {
      const reply = Number(
        await runScript(
          this.client,
          'recordDeadLetter',
          [
            shard.dead,
            shard.deadBytes,
            shard.owner,
            layout.keys.deadSources(shardNumber, input?.topic ?? ''),
          ],
          [
            json,
            layout.deadLetterMaxLen,
            layout.deadLetterMaxBytes,
            this.deadLetterTrim,
            claims ? claims.epochFor(shardNumber) : '',
            input ? `${input.partition}/${input.offset}` : '',
            input?.offset ?? 0,
            DEAD_SOURCE_WINDOW,
          ],
        ),
      );
      if (reply === -2) throw layout.deadLettersFull();
      if (reply === -3 && claims) throw claims.fenced(shardNumber);
    });
  }

  readDeadLetters(limit: number): Promise<QueuedItem<DeadLetter>[]> {
    return this.operations.run('readDeadLetters', () =>
      readStreams<DeadLetter>(this.client, this.layout.deadKeys, limit, 'dead-letter'),
    );
  }

  ackDeadLetters(ids: readonly string[]): Promise<void> {
    return this.operations.run('ackDeadLetters', () =>
      ackStreams(this.client, this.layout.deadKeys, ids, (key, shard, streamIds) =>
        runScript(
          this.client,
          'ackDeadLetters',
          [key, this.layout.keys.shard(shard).deadBytes, this.layout.keys.shard(shard).owner],
          ['', ...streamIds],
        ),
      ),
    );
  }
}
