--[[ Loads one entity in one command: its hash, and only when the hash is empty (the entity looks
  new) whether its shard's marker and its history list are there, so a lost shard or an evicted
  entity is never taken for a new one (see docs/redis-store.md, "Lost data"). One script call
  instead of HGETALL + GET (+ EXISTS) saves a command's client work per load. Only reads; writing
  stores only (a read-only store uses the plain read commands, which a replica serves).
  Input:  KEYS[1] entity hash {P:N}:e:E   KEYS[2] shard marker {P:N}:marker
          KEYS[3] history list {P:N}:h:E
          ARGV[1] "1" to look at the marker (the namespace has markers), else "0"
          ARGV[2] "1" to look at the history list (eviction allowed), else "0"
  Output: { the hash as HGETALL answers it (field, value, ...), marker found (1/0),
            history list found (1/0) }; with a non-empty hash both are 1 and 0, unread. ]]
local fields = redis.call('HGETALL', KEYS[1])
if #fields > 0 then
  return { fields, 1, 0 }
end
local marker = 1
if ARGV[1] == '1' then
  marker = redis.call('EXISTS', KEYS[2])
end
local history = 0
if ARGV[2] == '1' then
  history = redis.call('EXISTS', KEYS[3])
end
return { fields, marker, history }
