--[[ Deletes published rows from a shard's outbox or dead-letter stream, only while the caller
  still holds the shard: a member that lost the partition (paused past its session timeout, slow
  to notice a rebalance) must not delete rows its successor has yet to publish.
  Input:  KEYS[1] owner hash {P:N}:owner   KEYS[2] stream {P:N}:outbox or {P:N}:dead
          ARGV[1] the caller's epoch   ARGV[2..] stream ids
  Output: the number of ids given, or -2 when the epoch is not the shard's (nothing deleted) ]]
--- @include "callInChunks"
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then
  return -2
end
if #ARGV < 2 then
  return 0
end
callInChunks('XDEL', KEYS[2], 2, #ARGV)
return #ARGV - 1
