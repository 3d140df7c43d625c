--[[ Loads the entities of one shard asked for in the same turn, in one command: each entity's hash,
  and, only when some hash is empty (an entity that looks new), whether the shard's marker and that
  entity's history list are there, so a lost shard or an evicted entity is never taken for a new
  one (see docs/redis-store.md, "Lost data"). One script call for a turn's loads instead of
  HGETALL + GET (+ EXISTS) per entity saves each load a command's client and server work. Only
  reads; used by writing stores only (a read-only store uses plain read commands, which replicas
  and read-only users are served).
  Input (the key count is given per call: 1 + 2 per entity):
    KEYS[1] shard marker {P:N}:marker
    KEYS[2i], KEYS[2i + 1] for entity i = 1..n: entity hash {P:N}:e:E, history list {P:N}:h:E
    ARGV[1] "1" to look at the marker (the namespace has markers), else "0"
    ARGV[2] "1" to look at the history list of an entity without a hash (eviction allowed), else "0"
  Output: { marker found (1/0; 1 when not looked at), then per entity: its hash as HGETALL
            answers it (field, value, ...), its history list found (1/0) } ]]
local n = (#KEYS - 1) / 2
local reply = { 1 }
local markerRead = false
for i = 1, n do
  local fields = redis.call('HGETALL', KEYS[2 * i])
  local history = 0
  if #fields == 0 then
    if ARGV[1] == '1' and not markerRead then
      markerRead = true
      reply[1] = redis.call('EXISTS', KEYS[1])
    end
    if ARGV[2] == '1' then
      history = redis.call('EXISTS', KEYS[2 * i + 1])
    end
  end
  reply[2 * i] = fields
  reply[2 * i + 1] = history
end
return reply
