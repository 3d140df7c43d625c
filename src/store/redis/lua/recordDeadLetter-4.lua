--[[ Keeps one dead letter that belongs to no entity (an invalid envelope, an unknown aggregate),
  optionally only while the caller still holds the shard (see claimShard-1.lua), and at most once
  per input record: after a crash, records whose offsets were not committed yet are delivered
  again, and an entity's seen ids cannot tell a garbage record's second delivery from its first.
  Input:  KEYS[1] dead-letter stream {P:N}:dead, KEYS[2] its byte count {P:N}:deadBytes,
          KEYS[3] the shard's owner hash {P:N}:owner,
          KEYS[4] the input records of one topic dead-lettered so far {P:N}:deadSources:<topic>
          (zset: "<partition>/<offset>" scored by the offset)
          ARGV[1] the dead letter's JSON, ARGV[2] most entries (0: none), ARGV[3] most bytes
          (0: none), ARGV[4] 1 to trim the oldest past the bounds (nobody relays the stream),
          0 to refuse instead (a relay publishes it: unpublished letters are never dropped),
          ARGV[5] the caller's epoch, or "" when the store is not fenced by claims,
          ARGV[6] the input record as "<partition>/<offset>", or "" when it came from no input,
          ARGV[7] its offset, ARGV[8] how many offsets behind the newest an entry is kept (a
          record that far behind was committed long ago and is never delivered again)
  Output: 1 when stored, 0 when this input record has its dead letter already, -2 when refused
          because the stream is at its bound, -3 when the epoch is not the shard's (nothing
          written in any of the last three cases) ]]
--- @include "deadLetterRoom"
--- @include "addDeadLetter"

if ARGV[5] ~= '' and redis.call('HGET', KEYS[3], 'epoch') ~= ARGV[5] then
  return -3
end
local source = ARGV[6]
if source ~= '' and redis.call('ZSCORE', KEYS[4], source) then
  return 0
end
local maxLen, maxBytes, trim = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not deadLetterRoom(KEYS[1], KEYS[2], maxLen, maxBytes, trim) then
  return -2
end
addDeadLetter(KEYS[1], KEYS[2], ARGV[1], maxLen, maxBytes, trim)
if source ~= '' then
  local offset = tonumber(ARGV[7])
  redis.call('ZADD', KEYS[4], offset, source)
  redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. tostring(offset - tonumber(ARGV[8])))
end
return 1
