/**
 * The Redis store's commit path: each decision is serialised at once and waits for its shard's
 * batch (commit-batcher.ts); one commitBatch.lua call per shard and turn then checks every
 * decision's version and writes it whole, or not at all, and each decision gets its own answer.
 */
import { StoreUnavailableError } from '../../core/errors.ts';
import type { CommitResult, EntityCommit, EntityRef } from '../entity-store.ts';
import { commitArgs, type CommitArgsSettings } from './commit-args.ts';
import { CommitBatcher, type PendingCommit } from './commit-batcher.ts';
import { toStoreError } from './connection.ts';
import { runScript, type RedisClient } from './scripts.ts';
import type { ShardClaims } from './shard-claims.ts';
import { readOnlyError } from './store-gate.ts';
import type { StoreLayout } from './store-layout.ts';
import type { StoreOperations } from './store-operations.ts';
import type { StoreSettings } from './redis-store-options.ts';

/** The commit path of one store: one batcher, one script call per shard and turn. */
export class GroupCommit {
  private readonly batcher = new CommitBatcher((shard, batch) => this.sendBatch(shard, batch), 128);
  private readonly readOnly: boolean;
  private readonly commitSettings: CommitArgsSettings;
  /** commitBatch.lua's effects flag (see StoreSettings). */
  private readonly effectsMode: '' | 'e' | 'E';
  private readonly historyLimit: number;
  private readonly deadLetterTrim: 0 | 1;

  constructor(
    private readonly client: RedisClient,
    private readonly layout: StoreLayout,
    private readonly operations: StoreOperations,
    private readonly claims: ShardClaims | undefined,
    settings: StoreSettings,
  ) {
    this.readOnly = settings.readOnly;
    this.commitSettings = settings.commitSettings;
    this.effectsMode = settings.effectsMode;
    this.historyLimit = settings.historyLimit;
    this.deadLetterTrim = settings.deadLetterTrim;
  }

  commit(ref: EntityRef, commit: EntityCommit): Promise<CommitResult> {
    if (this.readOnly) return Promise.reject(readOnlyError('commit'));
    const keys = this.layout.keys.entity(ref);
    // Serialise before anything is sent: a value that cannot be JSON fails the commit, not the script.
    let args: string[];
    try {
      args = commitArgs(this.commitSettings, keys.member, ref, commit);
    } catch (error) {
      return Promise.reject(toStoreError(error, 'commit'));
    }
    return new Promise<CommitResult>((resolve, reject) =>
      this.batcher.add(keys.shard, {
        stateKey: keys.state,
        historyKey: keys.history,
        args,
        resolve,
        reject,
      }),
    );
  }

  /** One script call for one shard's batch; each commit gets its own reply, or the call's error. */
  private sendBatch(shard: number, batch: readonly PendingCommit[]): void {
    const layout = this.layout;
    const shardKeys = layout.keys.shard(shard);
    const keyList = [
      shardKeys.stalled,
      shardKeys.parked,
      shardKeys.outbox,
      shardKeys.dead,
      shardKeys.deadBytes,
      shardKeys.versions,
    ];
    const argv: string[] = [
      `${batch.length}${this.effectsMode}`,
      String(this.historyLimit),
      String(layout.deadLetterMaxLen),
      String(layout.deadLetterMaxBytes),
      String(this.deadLetterTrim),
    ];
    for (const pending of batch) {
      keyList.push(pending.stateKey, pending.historyKey);
      for (const arg of pending.args) argv.push(arg);
    }
    if (this.effectsMode !== '') keyList.push(shardKeys.effects);
    const claims = this.claims;
    if (claims) {
      // The shard's claim travels with the batch and is checked by the script before any write.
      let epoch: string;
      try {
        epoch = claims.epochFor(shard);
      } catch (error) {
        for (const pending of batch) pending.reject(error);
        return;
      }
      keyList.push(shardKeys.owner);
      argv.push(epoch);
    }
    this.operations
      .run('commit', () => runScript(this.client, 'commitBatch', keyList, argv))
      .then(
        (replies) => {
          if (claims && Number(replies) === -3) {
            const error = claims.fenced(shard);
            for (const pending of batch) pending.reject(error);
            return;
          }
          const list = Array.isArray(replies) ? (replies as unknown[]) : [];
          // Mapped here rather than by a `.then` per commit: one promise and microtask less each.
          batch.forEach((pending, index) => {
            let result: CommitResult;
            try {
              result = commitResult(list[index], () => layout.deadLettersFull());
            } catch (error) {
              pending.reject(error);
              return;
            }
            pending.resolve(result);
          });
        },
        (error: unknown) => {
          for (const pending of batch) pending.reject(error);
        },
      );
  }
}

/** One decision's reply: its new version, -1 (its version moved) or -2 (dead letters full). */
function commitResult(reply: unknown, full: () => Error): CommitResult {
  const version = Number(reply);
  if (version === -2) throw full();
  if (version < 0) return { ok: false, reason: 'version-conflict' };
  if (!Number.isSafeInteger(version) || version < 1)
    throw new StoreUnavailableError(`redis store: commit answered ${String(reply)}`);
  return { ok: true, version };
}
