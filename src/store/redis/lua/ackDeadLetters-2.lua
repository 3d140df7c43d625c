--[[ Removes published dead letters from a shard's stream and takes their bytes off its count.
  Input:  KEYS[1] dead-letter stream {P:N}:dead, KEYS[2] its byte count {P:N}:deadBytes
          ARGV stream ids of the entries to remove (ids already gone are skipped)
  Output: the number of entries removed ]]
local removed = 0
local bytes = 0
for i = 1, #ARGV do
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
