--[[ Commits a batch of decisions, each for a different entity of one shard, each only if nobody
  else committed that entity first (version fencing). A decision whose version moved writes
  nothing; the others in the batch are unaffected. One call instead of one per decision saves a
  command's client work and a script call per decision (see docs/redis-store.md).

  Input (the key count is given per call: 6 + 2 per decision):
    KEYS[1] stalled zset {P:N}:stalled
    KEYS[2] parked zset  {P:N}:parked (the attention index: parked or held entities)
    KEYS[3] outbox stream {P:N}:outbox
    KEYS[4] dead-letter stream {P:N}:dead
    KEYS[5] the dead-letter stream's byte count {P:N}:deadBytes
    KEYS[6] versions hash {P:N}:versions (entities per aggregate and machine version)
    KEYS[5 + 2i], KEYS[6 + 2i] for decision i = 1..n:
      entity hash  {P:N}:e:E   fields v (version), q (lastSeq), s (snapshot JSON),
                               m (machine version of s), a (held mark JSON),
                               p (parked JSON), w (seen-id window JSON), n (buffer ordinal),
                               t (last applied time: JSON [time, id], time mode only),
                               b:<id> / B:<hex id> = "<ordinal>|<buffered entry JSON>"
      history list {P:N}:h:E   newest first
    ARGV[1]  n, the number of decisions, followed by "e" when the outbox rows also go to the
             effects stream, or "E" when they go only there (the outbox is off): then one more key
             after the decisions' keys, KEYS[7 + 2n] the effects stream {P:N}:effects
             (before the owner hash below)
    ARGV[2]  history limit (0: none)
    ARGV[3]  dead-letter stream bound in entries (0: unbounded)
    ARGV[4]  dead-letter stream bound in bytes (0: unbounded)
    ARGV[5]  1 to trim the oldest dead letters past the bounds (nobody relays them), 0 to refuse
    then for each decision, in KEYS order:
      header, a JSON array of numbers only (no strings: cheap to build in Node and to decode here;
      the values that used to repeat per decision are the batch's ARGV[2..5]):
             [1 expected version (0 for an entity never committed), 2 lastSeq,
              3 parked mode (0 keep, 1 set, 2 clear), 4 parkedAt (ms),
              5 stalled mode (0 keep, 1 set, 2 clear), 6 oldest buffered arrival (ms),
              7 expiry (0 none, > 0 PEXPIRE entity + history in ms, -1 PERSIST),
              8 buffer added, 9 buffer removed, 10 outbox rows, 11 dead letters, 12 history
              entries (counts), 13 held mode (0 keep, 1 set, 2 clear), 14 held since (ms),
              15 committed at (ms), 16 snapshot follows (1/0), 17 seen window follows (1/0),
              18 last applied time follows (1/0), 19 machine version follows (1/0)]
      index member (the encoded entity id)
      then only the string arguments the header announces, in this order (an unchanged value
      costs no argument at all):
        snapshot JSON (16); seen-id window JSON (17); parked event JSON (parked mode set);
        last applied time JSON (18; it never goes away once set); held mark JSON (held mode set);
        machine version and its version field (19: length-prefixed aggregate and version, see
        keys.ts; absent keeps the stored stamp)
      buffer added as field, JSON pairs; removed fields; outbox JSON; dead-letter JSON;
      history JSON (oldest first)
    Fenced by the shard's claim (optional; see claimShard-1.lua): one more key after the
    decisions' keys (and the effects stream), the owner hash {P:N}:owner, and one more argument after the
    decisions' arguments, the caller's epoch. When the stored epoch is another, nothing is written.
  Output: -3 when the shard's claim is fenced (nothing written for any decision); else one reply
          per decision: the new version (>= 1), -1 when the stored version is not the
          expected one (nothing written for it; the caller reloads the entity and decides again),
          or -2 when the decision carries dead letters and the shard's unpublished dead letters
          are at their bound (nothing written; decided again once the relay published some). ]]
--- @include "callInChunks"
--- @include "setOrClearIndex"
--- @include "deadLetterRoom"
--- @include "addDeadLetter"

local stalledKey, parkedKey, outboxKey, deadKey, deadBytesKey, versionsKey =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local historyLimit, maxLen, maxBytes, trim = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local INDEX_MODES = { [1] = 'set', [2] = 'clear' }
-- Set from ARGV[1] below: where applied-transition rows go.
local toOutbox, effectsKey = true, nil

-- Restamps the entity with its snapshot's machine version and keeps the per-version counts.
local function stampVersion(entityKey, machineVersion, versionField, aggregatePrefix, at)
  local old = redis.call('HGET', entityKey, 'm')
  if old == machineVersion then
    return
  end
  redis.call('HSET', entityKey, 'm', machineVersion)
  if old then
    redis.call('HINCRBY', versionsKey, 'c:' .. aggregatePrefix .. old, -1)
  end
  redis.call('HINCRBY', versionsKey, 'c:' .. versionField, 1)
  redis.call('HSETNX', versionsKey, 'f:' .. versionField, at)
end

-- The argument at ARGV[at] when the header announced it (and the index after it), else nil.
local function optionalArg(present, at)
  if present then
    return ARGV[at], at + 1
  end
  return nil, at
end

-- Commits one decision whose arguments start at ARGV[first]; returns its reply and the index of
-- the next decision's first argument.
local function commitOne(entityKey, historyKey, first)
  -- Numbers only: cjson reads them cheaply and Node builds them without JSON-encoding strings.
  local header = cjson.decode(ARGV[first])
  local expected, lastSeq, parkedMode, parkedAt, stalledMode, oldest = header[1], header[2], header[3], header[4], header[5], header[6]
  local expiry = header[7]
  local added, removed, outboxRows, deadLetters, historyEntries = header[8], header[9], header[10], header[11], header[12]
  local heldMode, heldAt, committedAt = header[13], header[14], header[15]
  local member = ARGV[first + 1]
  local at = first + 2
  local snapshot, seen, parked, lastTime, heldJson, machineVersion, versionField
  snapshot, at = optionalArg(header[16] == 1, at)
  seen, at = optionalArg(header[17] == 1, at)
  parked, at = optionalArg(parkedMode == 1, at)
  lastTime, at = optionalArg(header[18] == 1, at)
  heldJson, at = optionalArg(heldMode == 1, at)
  if header[19] == 1 then
    machineVersion, versionField = ARGV[at], ARGV[at + 1]
    at = at + 2
  end

  local nextFirst = at + 2 * added + removed + outboxRows + deadLetters + historyEntries
  local stored = redis.call('HGET', entityKey, 'v')
  local current = stored and tonumber(stored) or 0
  if current ~= expected then
    return -1, nextFirst
  end
  if deadLetters > 0 and not deadLetterRoom(deadKey, deadBytesKey, maxLen, maxBytes, trim) then
    return -2, nextFirst
  end
  local version = current + 1

  local fields = { 'v', version, 'q', lastSeq }
  if snapshot then
    fields[#fields + 1] = 's'
    fields[#fields + 1] = snapshot
  end
  if seen then
    fields[#fields + 1] = 'w'
    fields[#fields + 1] = seen
  end
  if parked then
    fields[#fields + 1] = 'p'
    fields[#fields + 1] = parked
  end
  if lastTime then
    fields[#fields + 1] = 't'
    fields[#fields + 1] = lastTime
  end
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
  if parkedMode == 2 then
    redis.call('HDEL', entityKey, 'p')
  end
  if removed > 0 then
    callInChunks('HDEL', entityKey, at, at + removed - 1)
    at = at + removed
  end

  for i = 0, outboxRows - 1 do
    if toOutbox then
      redis.call('XADD', outboxKey, '*', 'v', ARGV[at + i])
    end
    if effectsKey then
      redis.call('XADD', effectsKey, '*', 'v', ARGV[at + i])
    end
  end
  at = at + outboxRows

  for i = 0, deadLetters - 1 do
    addDeadLetter(deadKey, deadBytesKey, ARGV[at + i], maxLen, maxBytes, trim)
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

  if heldMode == 1 then
    redis.call('HSET', entityKey, 'a', heldJson)
  elseif heldMode == 2 then
    redis.call('HDEL', entityKey, 'a')
  end
  -- One index for every entity that needs an operator: in it while parked or held.
  if parkedMode == 1 or heldMode == 1 then
    redis.call('ZADD', parkedKey, parkedMode == 1 and parkedAt or heldAt, member)
  elseif parkedMode == 2 or heldMode == 2 then
    if redis.call('HEXISTS', entityKey, 'p') == 0 and redis.call('HEXISTS', entityKey, 'a') == 0 then
      redis.call('ZREM', parkedKey, member)
    end
  end
  if machineVersion then
    local aggregatePrefix = string.sub(versionField, 1, #versionField - #machineVersion)
    stampVersion(entityKey, machineVersion, versionField, aggregatePrefix, committedAt)
  end
  setOrClearIndex(stalledKey, INDEX_MODES[stalledMode], oldest, member)

  if expiry > 0 then
    redis.call('PEXPIRE', entityKey, expiry)
    redis.call('PEXPIRE', historyKey, expiry)
  elseif expiry < 0 then
    redis.call('PERSIST', entityKey)
    redis.call('PERSIST', historyKey)
  end

  return version, nextFirst
end

local countText, effectsMode = string.match(ARGV[1], '^(%d+)([eE]?)$')
local count = tonumber(countText)
-- The applied-transition rows are sent once and written to the outbox, the effects stream, or both.
toOutbox = effectsMode ~= 'E'
local extraKeys = 0
if effectsMode ~= '' then
  effectsKey = KEYS[7 + 2 * count]
  extraKeys = 1
end
if #KEYS > 6 + 2 * count + extraKeys and redis.call('HGET', KEYS[#KEYS], 'epoch') ~= ARGV[#ARGV] then
  return -3
end
local replies = {}
local first = 6
for i = 1, count do
  replies[i], first = commitOne(KEYS[5 + 2 * i], KEYS[6 + 2 * i], first)
end
return replies
