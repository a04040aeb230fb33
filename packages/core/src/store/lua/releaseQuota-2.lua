--[[
  Gives back what reserveQuota-2 reserved for a batch whose acceptance failed: its open entry and its
  place in the submission window. A refused batch leaves nothing behind.

  KEYS[1] the tenant's open hash
  KEYS[2] the tenant's submission window
  ARGV[1] batch id

  Returns 1 when something was released.
]]
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local items = string.sub(v, 1, string.find(v, ':', 1, true) - 1)
redis.call('ZREM', KEYS[2], ARGV[1] .. ':' .. items)
redis.call('HDEL', KEYS[1], ARGV[1])
return 1
