--[[ Records the namespace's shard count, layout, id and sharding the first time any process
  connects, so processes configured with a different count or sharding (which would look for
  entities in the wrong shard) can refuse to start. The caller has written every shard's marker
  before (see namespace.ts). A namespace recorded before sharding was recorded used `hash`.
  Input:  KEYS[1] meta hash {P}:meta   ARGV[1] shard count   ARGV[2] layout version
          ARGV[3] namespace id   ARGV[4] sharding
  Output: { stored shard count, stored layout version, stored sharding } (the given ones when this
          call recorded them) ]]
if redis.call('HEXISTS', KEYS[1], 'shards') == 1 then
  redis.call('HSETNX', KEYS[1], 'sharding', 'hash')
end
redis.call('HSETNX', KEYS[1], 'shards', ARGV[1])
redis.call('HSETNX', KEYS[1], 'layout', ARGV[2])
redis.call('HSETNX', KEYS[1], 'id', ARGV[3])
redis.call('HSETNX', KEYS[1], 'sharding', ARGV[4])
return redis.call('HMGET', KEYS[1], 'shards', 'layout', 'sharding')
