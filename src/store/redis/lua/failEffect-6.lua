--[[ Puts an effect that used up its attempts in the shard's failure log, taking it from where it
  waited: the effects stream, or the head of the entity's holding list. Fenced by the shard's claim.
  Input:  KEYS[1] owner hash {P:N}:owner   KEYS[2] effects stream {P:N}:effects
          KEYS[3] the entity's holding list   KEYS[4] holding set {P:N}:effects:holding
          KEYS[5] failure log {P:N}:effects:failed   KEYS[6] attempts hash {P:N}:effects:attempts
          ARGV[1] the caller's epoch, or ""   ARGV[2] the entity's member E
          ARGV[3] the stream id, or "" when the effect is the head of the holding list
          ARGV[4] the transition identity   ARGV[5] the failure JSON
          ARGV[6] the held entry "<identity>|<transition JSON>"
  Output: 1, 0 when the effect was no longer where it was said to be (nothing written),
          or -2 when the epoch is not the shard's ]]
--- @include "checkEpoch"
if not checkEpoch(KEYS[1], ARGV[1]) then
  return -2
end
if ARGV[3] ~= '' then
  if redis.call('XDEL', KEYS[2], ARGV[3]) == 0 then
    return 0
  end
else
  local head = redis.call('LINDEX', KEYS[3], 0)
  if not head or string.sub(head, 1, #ARGV[4] + 1) ~= ARGV[4] .. '|' then
    return 0
  end
  redis.call('LPOP', KEYS[3])
  if redis.call('LLEN', KEYS[3]) == 0 then
    redis.call('SREM', KEYS[4], ARGV[2])
  end
end
redis.call('HSET', KEYS[5], ARGV[2], ARGV[5] .. '\n' .. ARGV[6])
redis.call('HDEL', KEYS[6], ARGV[4])
return 1
