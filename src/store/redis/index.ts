/** The Redis store adapter. Imported on its own so the embedded memory path never loads ioredis. */
export { redisStore, type RedisStore, type RedisStoreOptions } from './redis-store.ts';
export { RECOMMENDED_REDIS_OPTIONS, reconnectDelay, type RedisConnectionOptions } from './connection.ts';
export {
  KeySpace,
  encodeEntityId,
  decodeEntityId,
  DEFAULT_PREFIX,
  DEFAULT_SHARDS,
  type EntityKeys,
  type ShardKeys,
  type Sharding,
} from './keys.ts';
export { ShardClaims } from './shard-claims.ts';
export type { OwnedShards } from './owned-shards.ts';
export { UnserializableValueError, CorruptEntityError } from './codec.ts';
export { EvictingRedisError, StoreResetError } from './namespace.ts';
export { parseRedisUrl, redactUrl, type RedisUrl } from './redis-url.ts';
export type { RedisClient } from './scripts.ts';
