/**
 * What the Redis store reads: an entity (a writing store batches the loads of one shard and turn
 * into one script call, load-batch.ts), its history, the stalled and parked indexes, and the
 * version and scan reads that write nothing at all.
 */
import type { HistoryEntry } from '../../core/history.ts';
import type {
  EntityRef,
  ScannedEntity,
  StalledEntity,
  StoredEntity,
  StoredVersion,
} from '../entity-store.ts';
import { decodeEntity, parse } from './codec.ts';
import { CommitBatcher } from './commit-batcher.ts';
import type { OpenedClient } from './connection.ts';
import { historyEntryFrom } from './history-codec.ts';
import { decodeEntityId, type EntityKeys } from './keys.ts';
import { sendLoadBatch, type LoadAnswer, type PendingLoad } from './load-batch.ts';
import { lostEntity } from './namespace.ts';
import type { RedisClient } from './scripts.ts';
import type { ShardClaims } from './shard-claims.ts';
import { readIndexes } from './shard-reads.ts';
import type { StoreGate } from './store-gate.ts';
import type { StoreLayout } from './store-layout.ts';
import type { StoreOperations } from './store-operations.ts';
import type { StoreSettings } from './redis-store-options.ts';
import { readVersions, scanEntities } from './version-reads.ts';

/** The reads of one store; a writing store's loads go through its own batcher. */
export class StoreReads {
  private readonly loads = new CommitBatcher<PendingLoad>(
    (shard, batch) =>
      sendLoadBatch(this.client, this.layout.keys.shard(shard).marker, batch, {
        marker: this.gate.marked,
        history: this.allowEviction && this.historyLimit > 0,
      }),
    128,
  );
  private readonly readOnly: boolean;
  private readonly allowEviction: boolean;
  private readonly historyLimit: number;

  constructor(
    private readonly client: RedisClient,
    private readonly layout: StoreLayout,
    private readonly gate: StoreGate,
    private readonly operations: StoreOperations,
    private readonly connection: Pick<OpenedClient, 'where'>,
    private readonly claims: ShardClaims | undefined,
    settings: Pick<StoreSettings, 'readOnly' | 'allowEviction' | 'historyLimit'>,
  ) {
    this.readOnly = settings.readOnly;
    this.allowEviction = settings.allowEviction;
    this.historyLimit = settings.historyLimit;
  }

  load(ref: EntityRef): Promise<StoredEntity | undefined> {
    const layout = this.layout;
    const keys = layout.keys.entity(ref);
    return this.operations.run('load', async () => {
      // The marker is read in the same round trip: nothing found AND no marker means Redis lost
      // the shard, and the entity must not be taken for a new one.
      // Where eviction was allowed, single keys can go too: an entity hash gone while its history
      // list is still there was evicted (both expire together otherwise).
      const [fields, marker, history] = this.readOnly
        ? await Promise.all([
            this.client.hgetall(keys.state),
            this.gate.marked
              ? this.client.get(layout.keys.shard(keys.shard).marker)
              : Promise.resolve('unchecked'),
            this.allowEviction && this.historyLimit > 0
              ? this.client.exists(keys.history)
              : Promise.resolve(0),
          ])
        : await this.loadBatched(keys);
      const entity = decodeEntity(fields, `${ref.aggregate}/${ref.key}`);
      if (entity === undefined && (marker === null || history > 0))
        throw lostEntity(
          { where: this.connection.where, keys: layout.keys },
          `${ref.aggregate}/${ref.key}`,
          marker === null ? 'shard marker' : 'state (its history is still there)',
        );
      return entity;
    });
  }

  history(ref: EntityRef): Promise<HistoryEntry[]> {
    const keys = this.layout.keys.entity(ref);
    return this.operations.run('history', async () => {
      const entries = await this.client.lrange(keys.history, 0, -1);
      return entries
        .reverse()
        .map((entry) => historyEntryFrom(parse<unknown>(entry, `history of ${ref.aggregate}/${ref.key}`)));
    });
  }

  stalled(before: number, limit: number): Promise<StalledEntity[]> {
    return this.operations.run('stalled', async () => {
      const found = await readIndexes(this.client, this.indexKeys(this.layout.stalledKeys), before, limit);
      return found.flatMap(({ member, score }) => {
        const ref = decodeEntityId(member);
        return ref ? [{ ...ref, oldestBufferedAt: score }] : [];
      });
    });
  }

  parked(limit: number): Promise<EntityRef[]> {
    return this.operations.run('parked', async () => {
      const found = await readIndexes(this.client, this.indexKeys(this.layout.parkedKeys), undefined, limit);
      return found.flatMap(({ member }) => decodeEntityId(member) ?? []);
    });
  }

  versions(): Promise<StoredVersion[]> {
    return this.operations.read('versions', () => readVersions(this.client, this.layout.keys));
  }

  scan(aggregate: string, visit: (entity: ScannedEntity) => void): Promise<void> {
    return this.operations.read('scan', () => scanEntities(this.client, this.layout.keys, aggregate, visit));
  }

  /** With claims, the sweeper looks only at the shards this process holds (the others are not its to decide). */
  private indexKeys(all: readonly string[]): readonly string[] {
    return this.claims ? this.claims.held().map((shard) => all[shard] as string) : all;
  }

  /** A writing store's load, batched with the shard's other loads of this turn (load-batch.ts). */
  private loadBatched(keys: EntityKeys): Promise<LoadAnswer> {
    return new Promise<LoadAnswer>((resolve, reject) =>
      this.loads.add(keys.shard, { stateKey: keys.state, historyKey: keys.history, resolve, reject }),
    );
  }
}
