--[[ Removes published dead letters from a shard's stream and takes their bytes off its count,
  optionally only while the caller still holds the shard: a member that lost the partition must
  not delete letters its successor has yet to publish.
  Input:  KEYS[1] dead-letter stream {P:N}:dead, KEYS[2] its byte count {P:N}:deadBytes,
          KEYS[3] the shard's owner hash {P:N}:owner
          ARGV[1] the caller's epoch, or "" when the store is not fenced by claims
          ARGV[2..] stream ids of the entries to remove (ids already gone are skipped)
  Output: the number of entries removed, or -2 when the epoch is not the shard's (nothing removed) ]]
if ARGV[1] ~= '' and redis.call('HGET', KEYS[3], 'epoch') ~= ARGV[1] then
  return -2
end
local removed = 0
local bytes = 0
for i = 2, #ARGV do
  local entry = redis.call('XRANGE', KEYS[1], ARGV[i], ARGV[i])[1]
  if entry then
    bytes = bytes + #(entry[2][2] or '')
    removed = removed + redis.call('XDEL', KEYS[1], ARGV[i])
  end
end
if bytes > 0 and redis.call('DECRBY', KEYS[2], bytes) < 0 then
  redis.call('SET', KEYS[2], 0)
end
return removed
