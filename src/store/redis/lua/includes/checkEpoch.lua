--[[ Whether the caller may write for the shard: true when `epoch` is "" (an unfenced store, or an
  operator's tool) or the shard's owner hash names that epoch. ]]
local function checkEpoch(ownerKey, epoch)
  return epoch == '' or redis.call('HGET', ownerKey, 'epoch') == epoch
end
