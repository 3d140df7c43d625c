/**
 * Opens the store the flags ask for: the embedded memory store by default, Redis with --redis or
 * --redis-cluster. The Redis adapter is imported only then, so the embedded path never loads ioredis.
 */
import type { EntityStore } from '../store/entity-store.ts';
import { memoryStore } from '../store/memory-store.ts';
import { stringFlag, type FlagValues } from './command.ts';
import { UsageError } from './usage-error.ts';

/** Flags every store-using command accepts. */
export const storeOptions = {
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  'redis-prefix': { type: 'string' },
} as const;

/** The store options' lines for a command's usage text. */
export const STORE_USAGE = `  --redis <url>          the Redis store: redis://[user:password@]host:port[/db], rediss:// for TLS
  --redis-cluster <list> the Redis store on a Redis Cluster: host:port[,host:port...]
  --redis-prefix <p>     key prefix of the Redis store (default gk, as \`gatekeeper run\` uses)`;

/**
 * Opens the store and, for Redis, waits until it answered, so a wrong URL fails here with the
 * reason instead of on the first event. The caller closes it (gatekeeper.close() does).
 */
export async function openStore(flags: FlagValues): Promise<EntityStore> {
  const url = stringFlag(flags, 'redis');
  const cluster = stringFlag(flags, 'redis-cluster');
  const prefix = stringFlag(flags, 'redis-prefix');
  if (url !== undefined && cluster !== undefined)
    throw new UsageError('give --redis or --redis-cluster, not both');
  if (url === undefined && cluster === undefined) {
    if (prefix !== undefined) throw new UsageError('--redis-prefix needs --redis or --redis-cluster');
    return memoryStore();
  }
  const { redisStore } = await import('../store/redis/index.ts');
  const store = redisStore({
    ...(url === undefined
      ? { cluster: { nodes: (cluster as string).split(',').filter((node) => node !== '') } }
      : { url }),
    ...(prefix === undefined ? {} : { prefix }),
    // Whatever shard count and sharding the namespace was made with (gatekeeper run on Kafka: one
    // shard per input partition).
    recordedLayout: true,
  });
  try {
    await store.ready();
  } catch (error) {
    // The client reconnects forever; a CLI that could not use it must not stay alive because of it.
    await store.close();
    throw error;
  }
  return store;
}
