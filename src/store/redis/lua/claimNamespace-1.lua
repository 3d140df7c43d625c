--[[ Records the namespace's shard count, layout and id the first time any process connects, so
  processes configured with a different count (which would look for entities in the wrong shard)
  can refuse to start. The caller has written every shard's marker before (see namespace.ts).
  Input:  KEYS[1] meta hash {P}:meta   ARGV[1] shard count   ARGV[2] layout version   ARGV[3] namespace id
  Output: { stored shard count, stored layout version } (the given ones when this call recorded them) ]]
redis.call('HSETNX', KEYS[1], 'shards', ARGV[1])
redis.call('HSETNX', KEYS[1], 'layout', ARGV[2])
redis.call('HSETNX', KEYS[1], 'id', ARGV[3])
return redis.call('HMGET', KEYS[1], 'shards', 'layout')
