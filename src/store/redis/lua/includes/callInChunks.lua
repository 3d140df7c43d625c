--[[ Calls `command key <items...>` for ARGV[first..last], at most 512 items per call, so a long
  list never exceeds Lua's unpack limit. Returns nothing. ]]
local function callInChunks(command, key, first, last)
  local chunk = 512
  local from = first
  while from <= last do
    local to = math.min(from + chunk - 1, last)
    redis.call(command, key, unpack(ARGV, from, to))
    from = to + 1
  end
end
