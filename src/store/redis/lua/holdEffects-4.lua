--[[ Moves effects of one entity from the shard's effects stream to the end of the entity's holding
  list, in the order given: they wait there behind its failing effect. Fenced by the shard's claim.
  Input:  KEYS[1] owner hash {P:N}:owner   KEYS[2] effects stream {P:N}:effects
          KEYS[3] the entity's holding list {P:N}:effects:held:E
          KEYS[4] holding set {P:N}:effects:holding
          ARGV[1] the caller's epoch, or ""   ARGV[2] the entity's member E
          ARGV[3..] pairs: stream id, held entry "<identity>|<transition JSON>"
  Output: the holding list's length, or -2 when the epoch is not the shard's (nothing moved) ]]
--- @include "checkEpoch"
if not checkEpoch(KEYS[1], ARGV[1]) then
  return -2
end
for i = 3, #ARGV, 2 do
  -- A row already gone (acknowledged or held before a restart) is not held twice.
  if redis.call('XDEL', KEYS[2], ARGV[i]) == 1 then
    redis.call('RPUSH', KEYS[3], ARGV[i + 1])
  end
end
local length = redis.call('LLEN', KEYS[3])
if length > 0 then
  redis.call('SADD', KEYS[4], ARGV[2])
end
return length
