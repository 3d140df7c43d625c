--[[ Keeps one member of a sorted-set index in line with the entity: mode "set" adds it with
  `score`, mode "clear" removes it, any other mode leaves the index alone. ]]
local function setOrClearIndex(key, mode, score, member)
  if mode == 'set' then
    redis.call('ZADD', key, score, member)
  elseif mode == 'clear' then
    redis.call('ZREM', key, member)
  end
end
