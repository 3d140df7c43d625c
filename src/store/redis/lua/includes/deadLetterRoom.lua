--[[ Whether dead letters may be added to a shard's stream. With `trim` (nobody relays them) there
  is always room: the oldest are dropped after the add (see addDeadLetter). Without it (a relay
  publishes and acknowledges them), none that is unpublished may go: there is room while the
  stream holds fewer than `maxLen` entries and fewer than `maxBytes` bytes (0: no bound). One
  decision may pass the bound by its own letters, so a decision with many is never refused forever. ]]
local function deadLetterRoom(deadKey, bytesKey, maxLen, maxBytes, trim)
  if trim == 1 then
    return true
  end
  if maxLen > 0 and redis.call('XLEN', deadKey) >= maxLen then
    return false
  end
  if maxBytes > 0 and (tonumber(redis.call('GET', bytesKey)) or 0) >= maxBytes then
    return false
  end
  return true
end
