--[[ Operator skip: the entity's failed effect leaves the failure log and is recorded in the shard's
  skipped stream (the newest 1,000 kept); the shard's runner then releases the held ones in order.
  Not fenced: an operator acts for whichever member owns the shard.
  Input:  KEYS[1] failure log {P:N}:effects:failed   KEYS[2] skipped stream {P:N}:effects:skipped
          ARGV[1] the entity's member E   ARGV[2] when (ms)
  Output: the failure log's value for the effect, or false when the entity has no failed effect ]]
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then
  return false
end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', 1000, '*', 'v', value, 'at', ARGV[2])
return value
