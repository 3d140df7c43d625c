--[[ Appends a dead letter that belongs to no entity to its shard's dead-letter stream, only
  while the caller still holds the shard (see claimShard-1.lua).
  Input:  KEYS[1] owner hash {P:N}:owner   KEYS[2] dead-letter stream {P:N}:dead
          ARGV[1] the caller's epoch   ARGV[2] MAXLEN (0: unbounded)   ARGV[3] dead letter JSON
  Output: 1, or -2 when the epoch is not the shard's (nothing written) ]]
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then
  return -2
end
local maxLen = tonumber(ARGV[2])
if maxLen > 0 then
  redis.call('XADD', KEYS[2], 'MAXLEN', '=', maxLen, '*', 'v', ARGV[3])
else
  redis.call('XADD', KEYS[2], '*', 'v', ARGV[3])
end
return 1
