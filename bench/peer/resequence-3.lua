--[[ The peer a user would write instead of adopting gatekeeper: a minimal resequencer, one call per
  event. Keeps the highest applied seq per key, holds back later ones until the gap fills, and
  appends every applied event to an outbox stream so nothing applied is lost. No state machine, no
  legality check, no history, no payload schema.
  Input:  KEYS[1] the key's hash (field s: last applied seq), KEYS[2] its held events (zset by seq),
          KEYS[3] the outbox stream;  ARGV[1] the event's seq, ARGV[2] the event (JSON)
  Output: how many events were appended to the outbox (this one and what it released), 0 when it
          was held, -1 when it was past or already held ]]
local seq = tonumber(ARGV[1])
local last = tonumber(redis.call('HGET', KEYS[1], 's') or '0')
if seq <= last then return -1 end
if seq > last + 1 then
  if redis.call('ZADD', KEYS[2], 'NX', seq, ARGV[2]) == 0 then return -1 end
  return 0
end
redis.call('XADD', KEYS[3], '*', 'e', ARGV[2])
local applied = 1
last = seq
while true do
  local held = redis.call('ZRANGEBYSCORE', KEYS[2], last + 1, last + 1)
  if #held == 0 then break end
  redis.call('ZREMRANGEBYSCORE', KEYS[2], last + 1, last + 1)
  redis.call('XADD', KEYS[3], '*', 'e', held[1])
  applied = applied + 1
  last = last + 1
end
redis.call('HSET', KEYS[1], 's', last)
return applied
