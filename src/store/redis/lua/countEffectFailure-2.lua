--[[ Counts one more failed attempt of an effect, durably, so `attempt` goes on across restarts.
  Input:  KEYS[1] owner hash {P:N}:owner   KEYS[2] attempts hash {P:N}:effects:attempts
          ARGV[1] the caller's epoch, or ""   ARGV[2] the transition identity
  Output: the failed attempts so far, or -2 when the epoch is not the shard's ]]
--- @include "checkEpoch"
if not checkEpoch(KEYS[1], ARGV[1]) then
  return -2
end
return redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
