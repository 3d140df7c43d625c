--[[ Commits one decision for one entity, if nobody else committed it first (version fencing).
  Nothing is written when the version moved, so two processes can never both apply a transition.

  Input:
    KEYS[1] entity hash  {P:N}:e:E   fields v (version), q (lastSeq), s (snapshot JSON),
                                     p (parked JSON), w (seen-id window JSON), n (buffer ordinal),
                                     b:<id> / B:<hex id> = "<ordinal>|<buffered entry JSON>"
    KEYS[2] history list {P:N}:h:E   newest first
    KEYS[3] stalled zset {P:N}:stalled
    KEYS[4] parked zset  {P:N}:parked
    KEYS[5] outbox stream {P:N}:outbox
    KEYS[6] dead-letter stream {P:N}:dead
    ARGV[1]  header, a JSON array:
             [expected version (0 for an entity never committed), lastSeq,
              parked mode ("keep" | "set" | "clear"), parkedAt (ms),
              stalled mode ("keep" | "set" | "clear"), oldest buffered arrival (ms),
              history limit (0: none), expiry (0 none, > 0 PEXPIRE entity + history in ms, -1 PERSIST),
              dead-letter stream MAXLEN (0: unbounded),
              buffer added, buffer removed, outbox rows, dead letters, history entries (counts)]
    ARGV[2]  index member (the encoded entity id)
    ARGV[3]  snapshot JSON, or "" to keep the stored one
    ARGV[4]  seen-id window JSON, or "" to keep the stored one
    ARGV[5]  parked event JSON (with parked mode set), else ""
    ARGV[6..] buffer added as field, JSON pairs; removed fields; outbox JSON; dead-letter JSON;
              history JSON (oldest first)
  Output: the new version (>= 1), or -1 when the stored version is not the expected one (nothing
          written; the caller reloads the entity and decides again). ]]
--- @include "callInChunks"
--- @include "setOrClearIndex"

local entityKey, historyKey = KEYS[1], KEYS[2]
-- One header argument keeps the client's encoding work small; cjson is the cheapest way to read it.
local header = cjson.decode(ARGV[1])
local expected, lastSeq, parkedMode, parkedAt, stalledMode, oldest = header[1], header[2], header[3], header[4], header[5], header[6]
local historyLimit, expiry, maxLen = header[7], header[8], header[9]
local added, removed, outboxRows, deadLetters, historyEntries = header[10], header[11], header[12], header[13], header[14]

local stored = redis.call('HGET', entityKey, 'v')
local current = stored and tonumber(stored) or 0
if current ~= expected then
  return -1
end
local version = current + 1
local member = ARGV[2]

local fields = { 'v', version, 'q', lastSeq }
if ARGV[3] ~= '' then
  fields[#fields + 1] = 's'
  fields[#fields + 1] = ARGV[3]
end
if ARGV[4] ~= '' then
  fields[#fields + 1] = 'w'
  fields[#fields + 1] = ARGV[4]
end
if parkedMode == 'set' then
  fields[#fields + 1] = 'p'
  fields[#fields + 1] = ARGV[5]
end
redis.call('HSET', entityKey, unpack(fields))
local at = 6

-- Buffered entries carry an arrival ordinal so unsequenced events keep their order on load.
if added > 0 then
  local ordinal = redis.call('HINCRBY', entityKey, 'n', added) - added
  local entries = {}
  for i = 0, added - 1 do
    ordinal = ordinal + 1
    entries[#entries + 1] = ARGV[at + 2 * i]
    entries[#entries + 1] = ordinal .. '|' .. ARGV[at + 2 * i + 1]
    if #entries >= 512 or i == added - 1 then
      redis.call('HSET', entityKey, unpack(entries))
      entries = {}
    end
  end
  at = at + 2 * added
end
if parkedMode == 'clear' then
  redis.call('HDEL', entityKey, 'p')
end
if removed > 0 then
  callInChunks('HDEL', entityKey, at, at + removed - 1)
  at = at + removed
end

for i = 0, outboxRows - 1 do
  redis.call('XADD', KEYS[5], '*', 'v', ARGV[at + i])
end
at = at + outboxRows

for i = 0, deadLetters - 1 do
  if maxLen > 0 then
    redis.call('XADD', KEYS[6], 'MAXLEN', maxLen, '*', 'v', ARGV[at + i])
  else
    redis.call('XADD', KEYS[6], '*', 'v', ARGV[at + i])
  end
end
at = at + deadLetters

if historyLimit > 0 and historyEntries > 0 then
  -- LPUSH answers the new length: trim only when the list outgrew the limit.
  local length = 0
  local from = at
  while from <= at + historyEntries - 1 do
    local to = math.min(from + 511, at + historyEntries - 1)
    length = redis.call('LPUSH', historyKey, unpack(ARGV, from, to))
    from = to + 1
  end
  if length > historyLimit then
    redis.call('LTRIM', historyKey, 0, historyLimit - 1)
  end
end

setOrClearIndex(KEYS[4], parkedMode, parkedAt, member)
setOrClearIndex(KEYS[3], stalledMode, oldest, member)

if expiry > 0 then
  redis.call('PEXPIRE', entityKey, expiry)
  redis.call('PEXPIRE', historyKey, expiry)
elseif expiry < 0 then
  redis.call('PERSIST', entityKey)
  redis.call('PERSIST', historyKey)
end

return version
