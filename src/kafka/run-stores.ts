/**
 * The stores a run decides and publishes with. The config names one (in memory, or Redis); with
 * Redis shared by the consumer group, its shards are the input partitions and each member claims
 * the shards it is assigned. The relays get a connection of their own (see `openRunStores`).
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { InvalidConfigError } from '../core/errors.ts';
import type { EntityStore } from '../store/entity-store.ts';
import { memoryStore } from '../store/memory-store.ts';
import { redisStore, ShardClaims } from '../store/redis/index.ts';
import { kafkaPartitionSharding } from '../store/redis/partition-sharding.ts';
import type { RunConfig } from './config.ts';

export interface RunStores {
  /** The store the gatekeeper decides on. */
  store: EntityStore;
  /** The store the relays (and the effect runners) read: `store` itself unless it is Redis. */
  relayStore: EntityStore;
}

export interface RunStoreOptions {
  /** A store given by the caller (RunOptions.store): used for both, the config's is not opened. */
  given: EntityStore | undefined;
  /** Keep the effects queue (there is a transition handler). */
  effects: boolean;
  /** With a store shared by the group: the input partition count, which is the shard count. */
  partitions: number | undefined;
  /** Other members share the store: this member claims the shards it is assigned. */
  shared: boolean;
}

/** Opens the run's stores (not yet ready: see `storesReady`). */
export function openRunStores(config: RunConfig, options: RunStoreOptions): RunStores {
  const { given, partitions } = options;
  const claims = options.shared
    ? new ShardClaims(`${config.clientId}@${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`)
    : undefined;
  const keep = { effects: options.effects };
  const store = given ?? openStore(config, keep, partitions, claims);
  // The relays get a connection of their own: on the deciding connection each relay read would
  // queue behind thousands of pipelined commits, and publishing would fall far behind deciding.
  // The effect runners share it for the same reason.
  const relayStore =
    given ?? (config.redis === undefined ? store : openStore(config, keep, partitions, claims));
  return { store, relayStore };
}

/**
 * Waits until the deciding store can serve (a Redis store: connected, its layout read); when it cannot,
 * closes what was opened, the gatekeeper on top of it included, and throws why.
 */
export async function storesReady(stores: RunStores, gatekeeper: { close(): Promise<void> }): Promise<void> {
  const { store, relayStore } = stores;
  if ('ready' in store && typeof store.ready === 'function') {
    try {
      await (store.ready as () => Promise<void>)();
    } catch (error) {
      await gatekeeper.close().catch(() => undefined);
      if (relayStore !== store) await relayStore.close().catch(() => undefined);
      throw error;
    }
  }
}

/**
 * The store the config names. It keeps an outbox unless `topics.output` is false, dead letters for
 * the dead-letter relay either way, and the effects queue when there is a transition handler.
 */
function openStore(
  config: RunConfig,
  keep: { effects: boolean },
  partitions?: number,
  claims?: ShardClaims,
): EntityStore {
  const queues = { outbox: config.topics.output !== false, relayDeadLetters: true, effects: keep.effects };
  if (config.redis === undefined) return memoryStore(queues);
  const options = typeof config.redis === 'string' ? { url: config.redis } : config.redis;
  if (partitions === undefined) return redisStore({ ...options, ...queues });
  if (options.shards !== undefined && options.shards !== partitions)
    throw new InvalidConfigError(
      `redis.shards is ${options.shards} but the input topics have ${partitions} partitions: with Kafka there is one ` +
        'shard per input partition; leave redis.shards out',
    );
  return redisStore({
    ...options,
    ...queues,
    shards: partitions,
    sharding: kafkaPartitionSharding(partitions),
    ...(claims ? { claims } : {}),
  });
}
