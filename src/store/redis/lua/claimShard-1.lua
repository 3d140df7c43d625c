--[[ Claims one shard for a new owner: bumps the shard's epoch, so every write the previous owner
  still makes for the shard (commits, outbox and dead-letter deletes, dead letters) carries an
  older epoch and is refused by the script that checks it. Called when a member is assigned the
  input partition the shard belongs to.
  Input:  KEYS[1] owner hash {P:N}:owner   ARGV[1] the new owner's name (for operators)
  Output: the new epoch (>= 1) ]]
local epoch = redis.call('HINCRBY', KEYS[1], 'epoch', 1)
redis.call('HSET', KEYS[1], 'owner', ARGV[1])
return epoch
