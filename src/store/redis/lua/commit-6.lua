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
    ARGV[1]  expected version (0 for an entity never committed)
    ARGV[2]  index member (the encoded entity id)
    ARGV[3]  lastSeq
    ARGV[4]  snapshot JSON, or "" to keep the stored one
    ARGV[5]  seen-id window JSON, or "" to keep the stored one
    ARGV[6]  parked mode: keep | set | clear      ARGV[7] parked JSON   ARGV[8] parkedAt (ms)
    ARGV[9]  stalled mode: keep | set | clear     ARGV[10] oldest buffered arrival (ms)
    ARGV[11] history limit (0: keep no history)
    ARGV[12] expiry: 0 none, > 0 PEXPIRE entity + history (ms), -1 PERSIST them
    ARGV[13] dead-letter stream MAXLEN (0: unbounded)
    ARGV[14..18] counts: buffer added, buffer removed, outbox rows, dead letters, history entries
    ARGV[19..] buffer added as field, JSON pairs; removed fields; outbox JSON; dead-letter JSON;
               history JSON (oldest first)
  Output: the new version (>= 1), or -1 when the stored version is not ARGV[1] (nothing written;
          the caller reloads the entity and decides again). ]]
--- @include "callInChunks"
--- @include "setOrClearIndex"

local entityKey, historyKey = KEYS[1], KEYS[2]
local stored = redis.call('HGET', entityKey, 'v')
local current = stored and tonumber(stored) or 0
if current ~= tonumber(ARGV[1]) then
  return -1
end
local version = current + 1
local member = ARGV[2]

local fields = { 'v', version, 'q', ARGV[3] }
if ARGV[4] ~= '' then
  fields[#fields + 1] = 's'
  fields[#fields + 1] = ARGV[4]
end
if ARGV[5] ~= '' then
  fields[#fields + 1] = 'w'
  fields[#fields + 1] = ARGV[5]
end
if ARGV[6] == 'set' then
  fields[#fields + 1] = 'p'
  fields[#fields + 1] = ARGV[7]
end

local added, removed = tonumber(ARGV[14]), tonumber(ARGV[15])
local outboxRows, deadLetters, historyEntries = tonumber(ARGV[16]), tonumber(ARGV[17]), tonumber(ARGV[18])
local at = 19

redis.call('HSET', entityKey, unpack(fields))

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
if ARGV[6] == 'clear' then
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

local maxLen = tonumber(ARGV[13])
for i = 0, deadLetters - 1 do
  if maxLen > 0 then
    redis.call('XADD', KEYS[6], 'MAXLEN', maxLen, '*', 'v', ARGV[at + i])
  else
    redis.call('XADD', KEYS[6], '*', 'v', ARGV[at + i])
  end
end
at = at + deadLetters

local historyLimit = tonumber(ARGV[11])
if historyLimit > 0 and historyEntries > 0 then
  callInChunks('LPUSH', historyKey, at, at + historyEntries - 1)
  redis.call('LTRIM', historyKey, 0, historyLimit - 1)
end

setOrClearIndex(KEYS[4], ARGV[6], ARGV[8], member)
setOrClearIndex(KEYS[3], ARGV[9], ARGV[10], member)

local expiry = tonumber(ARGV[12])
if expiry > 0 then
  redis.call('PEXPIRE', entityKey, expiry)
  redis.call('PEXPIRE', historyKey, expiry)
elseif expiry < 0 then
  redis.call('PERSIST', entityKey)
  redis.call('PERSIST', historyKey)
end

return version
