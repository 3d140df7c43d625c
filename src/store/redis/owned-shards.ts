/**
 * What a member does with the shards it holds (see shard-claims.ts): claim one, read and delete
 * its outbox and dead-letter rows (deletes fenced by the claim), check that the claim still
 * stands before publishing, and count each shard's backlog for operators.
 */
import type { AppliedTransition, DeadLetter } from '../../core/outcome.ts';
import type { QueuedItem } from '../entity-store.ts';
import { parse } from './codec.ts';
import type { KeySpace } from './keys.ts';
import { runScript, type RedisClient } from './scripts.ts';
import type { ShardClaims } from './shard-claims.ts';
import { queuedItemId } from './shard-reads.ts';
import type { RunOperation } from './store-operations.ts';

/** The per-shard queues of a fenced Redis store. */
export interface OwnedShards {
  /** The name this process claims shards under (shown in `{P:N}:owner`). */
  readonly owner: string;
  /** Claims the shard (bumps its epoch; every older claim is fenced from now on); the new epoch. */
  claim(shard: number): Promise<number>;
  /** Forgets the shard locally: every later write for it fails without reaching Redis. */
  release(shard: number): void;
  /** Shards held now, ascending. */
  held(): number[];
  /** True while Redis still names this process's epoch for the shard. */
  stillHeld(shard: number): Promise<boolean>;
  readOutbox(shard: number, limit: number): Promise<QueuedItem<AppliedTransition>[]>;
  /** The oldest rows of the shard's outbox or dead letters up to and including a stream id (recovery). */
  readUpTo(
    shard: number,
    kind: 'output' | 'dead-letter',
    streamId: string,
    limit: number,
  ): Promise<QueuedItem<unknown>[]>;
  ackOutbox(shard: number, ids: readonly string[]): Promise<void>;
  readDeadLetters(shard: number, limit: number): Promise<QueuedItem<DeadLetter>[]>;
  ackDeadLetters(shard: number, ids: readonly string[]): Promise<void>;
  /** Rows waiting in the shard's outbox and dead-letter streams. */
  backlog(shard: number): Promise<{ outbox: number; deadLetters: number }>;
}

export function ownedShards(
  client: RedisClient,
  keys: KeySpace,
  claims: ShardClaims,
  run: RunOperation,
): OwnedShards {
  const read = <TValue>(shard: number, stream: string, limit: number, what: string, upTo = '+') =>
    run(`read ${what} of shard ${shard}`, async () => {
      const entries = await client.xrange(stream, '-', upTo, 'COUNT', limit);
      return entries.map(([id, fields]) => ({
        id: queuedItemId(shard, id),
        value: parse<TValue>(fields[1] ?? '', `${what} entry ${id} of shard ${shard}`),
      }));
    });
  const ack = (shard: number, stream: string, ids: readonly string[], what: string) =>
    run(`ack ${what} of shard ${shard}`, async () => {
      const epoch = claims.epochFor(shard);
      const prefix = `${shard}/`;
      const streamIds = ids.filter((id) => id.startsWith(prefix)).map((id) => id.slice(prefix.length));
      const shardKeys = keys.shard(shard);
      // Dead letters also leave the shard's byte count (the store's byte bound), in the same script.
      const reply =
        stream === shardKeys.dead
          ? await runScript(
              client,
              'ackDeadLetters',
              [shardKeys.dead, shardKeys.deadBytes, shardKeys.owner],
              [epoch, ...streamIds],
            )
          : await runScript(client, 'fencedDelete', [shardKeys.owner, stream], [epoch, ...streamIds]);
      if (Number(reply) === -2) throw claims.fenced(shard);
    });
  return {
    owner: claims.ownerName,
    claim: (shard) =>
      run(`claim shard ${shard}`, async () => {
        keys.shard(shard); // range check
        const epoch = Number(
          await runScript(client, 'claimShard', [keys.shard(shard).owner], [claims.ownerName]),
        );
        claims.hold(shard, epoch);
        return epoch;
      }),
    release: (shard) => claims.release(shard),
    held: () => claims.held(),
    stillHeld: (shard) =>
      run(`check the claim on shard ${shard}`, async () => {
        if (!claims.has(shard)) return false;
        const stored = await client.hget(keys.shard(shard).owner, 'epoch');
        if (stored === claims.epochFor(shard)) return true;
        claims.release(shard);
        return false;
      }),
    readUpTo: (shard, kind, streamId, limit) =>
      read<unknown>(
        shard,
        kind === 'output' ? keys.shard(shard).outbox : keys.shard(shard).dead,
        limit,
        kind === 'output' ? 'outbox' : 'dead-letter',
        streamId,
      ),
    readOutbox: (shard, limit) => read<AppliedTransition>(shard, keys.shard(shard).outbox, limit, 'outbox'),
    ackOutbox: (shard, ids) => ack(shard, keys.shard(shard).outbox, ids, 'outbox'),
    readDeadLetters: (shard, limit) => read<DeadLetter>(shard, keys.shard(shard).dead, limit, 'dead-letter'),
    ackDeadLetters: (shard, ids) => ack(shard, keys.shard(shard).dead, ids, 'dead-letter'),
    backlog: (shard) =>
      run(`backlog of shard ${shard}`, async () => {
        const [outbox, deadLetters] = await Promise.all([
          client.xlen(keys.shard(shard).outbox),
          client.xlen(keys.shard(shard).dead),
        ]);
        return { outbox, deadLetters };
      }),
  };
}
