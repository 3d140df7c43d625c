--[[ Removes the head of an entity's holding list once its handler ran (or it was dead-lettered),
  so the next held effect is released. Fenced by the shard's claim.
  Input:  KEYS[1] owner hash {P:N}:owner   KEYS[2] the entity's holding list
          KEYS[3] holding set {P:N}:effects:holding   KEYS[4] attempts hash {P:N}:effects:attempts
          ARGV[1] the caller's epoch, or ""   ARGV[2] the entity's member E
          ARGV[3] the transition identity of the head
  Output: the effects still held, or -2 when the epoch is not the shard's ]]
--- @include "checkEpoch"
if not checkEpoch(KEYS[1], ARGV[1]) then
  return -2
end
local head = redis.call('LINDEX', KEYS[2], 0)
if head and string.sub(head, 1, #ARGV[3] + 1) == ARGV[3] .. '|' then
  redis.call('LPOP', KEYS[2])
end
redis.call('HDEL', KEYS[4], ARGV[3])
local length = redis.call('LLEN', KEYS[2])
if length == 0 then
  redis.call('SREM', KEYS[3], ARGV[2])
end
return length
