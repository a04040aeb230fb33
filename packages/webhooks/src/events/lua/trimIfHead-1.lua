--[[
  Removes the first `count` entries of a group only if the list still starts with the one this flush
  sent first: another flush of the same group that got there first has already removed them.

  KEYS[1] the group's list of waiting entries
  ARGV[1] the entry this flush sent first
  ARGV[2] count

  Returns 1 when the entries were removed, 0 when another flush had removed them.
]]
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then
  redis.call('LTRIM', KEYS[1], tonumber(ARGV[2]), -1)
  return 1
end
return 0
