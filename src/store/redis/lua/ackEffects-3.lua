--[[ Removes effects whose handler ran from a shard's effects stream, with their attempt counts,
  only while the caller still holds the shard (a member that lost the partition must not remove
  effects its successor has yet to run).
  Input:  KEYS[1] owner hash {P:N}:owner   KEYS[2] effects stream {P:N}:effects
          KEYS[3] attempts hash {P:N}:effects:attempts
          ARGV[1] the caller's epoch, or "" when the store is not fenced
          ARGV[2..] pairs: stream id, transition identity
  Output: the number of entries removed, or -2 when the epoch is not the shard's (nothing removed) ]]
--- @include "checkEpoch"
if not checkEpoch(KEYS[1], ARGV[1]) then
  return -2
end
local removed = 0
local counted = redis.call('EXISTS', KEYS[3]) == 1
for i = 2, #ARGV, 2 do
  removed = removed + redis.call('XDEL', KEYS[2], ARGV[i])
  if counted then
    redis.call('HDEL', KEYS[3], ARGV[i + 1])
  end
end
return removed
