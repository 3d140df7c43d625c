--[[ Appends one dead letter (field v = its JSON) and counts its bytes in `bytesKey`. With `trim`
  (nobody relays the stream), the oldest entries go until the stream is within `maxLen` entries
  and `maxBytes` bytes again (0: no bound); the newest entry always stays. ]]
local function addDeadLetter(deadKey, bytesKey, json, maxLen, maxBytes, trim)
  redis.call('XADD', deadKey, '*', 'v', json)
  local bytes = redis.call('INCRBY', bytesKey, #json)
  if trim ~= 1 then
    return
  end
  local length = redis.call('XLEN', deadKey)
  while length > 1 and ((maxLen > 0 and length > maxLen) or (maxBytes > 0 and bytes > maxBytes)) do
    local oldest = redis.call('XRANGE', deadKey, '-', '+', 'COUNT', 1)[1]
    if not oldest then
      break
    end
    local value = oldest[2][2] or ''
    bytes = redis.call('DECRBY', bytesKey, #value)
    redis.call('XDEL', deadKey, oldest[1])
    length = length - 1
  end
  if bytes < 0 then
    redis.call('SET', bytesKey, 0)
  end
end
