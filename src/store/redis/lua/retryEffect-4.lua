--[[ Operator retry: the entity's failed effect leaves the failure log and goes back to the head of
  its holding list, its failed attempts kept, so the shard's runner runs it again and then the
  held ones in order. Not fenced: an operator acts for whichever member owns the shard.
  Input:  KEYS[1] failure log {P:N}:effects:failed   KEYS[2] the entity's holding list
          KEYS[3] holding set {P:N}:effects:holding   KEYS[4] attempts hash {P:N}:effects:attempts
          ARGV[1] the entity's member E
  Output: 1, or 0 when the entity has no failed effect ]]
local value = redis.call('HGET', KEYS[1], ARGV[1])
if not value then
  return 0
end
local newline = string.find(value, '\n', 1, true)
local note = cjson.decode(string.sub(value, 1, newline - 1))
local entry = string.sub(value, newline + 1)
local identity = string.sub(entry, 1, string.find(entry, '|', 1, true) - 1)
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('LPUSH', KEYS[2], entry)
redis.call('SADD', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[4], identity, note['attempts'])
return 1
