--[[ Keeps one dead letter that belongs to no entity (an invalid envelope, an unknown aggregate),
  optionally only while the caller still holds the shard (see claimShard-1.lua).
  Input:  KEYS[1] dead-letter stream {P:N}:dead, KEYS[2] its byte count {P:N}:deadBytes,
          KEYS[3] the shard's owner hash {P:N}:owner
          ARGV[1] the dead letter's JSON, ARGV[2] most entries (0: none), ARGV[3] most bytes
          (0: none), ARGV[4] 1 to trim the oldest past the bounds (nobody relays the stream),
          0 to refuse instead (a relay publishes it: unpublished letters are never dropped),
          ARGV[5] the caller's epoch, or "" when the store is not fenced by claims
  Output: 1 when stored, -2 when refused because the stream is at its bound, -3 when the epoch
          is not the shard's (nothing written either way) ]]
--- @include "deadLetterRoom"
--- @include "addDeadLetter"

if ARGV[5] ~= '' and redis.call('HGET', KEYS[3], 'epoch') ~= ARGV[5] then
  return -3
end
local maxLen, maxBytes, trim = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if not deadLetterRoom(KEYS[1], KEYS[2], maxLen, maxBytes, trim) then
  return -2
end
addDeadLetter(KEYS[1], KEYS[2], ARGV[1], maxLen, maxBytes, trim)
return 1
