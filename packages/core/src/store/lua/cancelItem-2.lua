--[[
  Cancels an item that has not started.

  KEYS[1] item hash
  KEYS[2] batch hash
  ARGV[1] now (RFC 3339)

  Returns {cancelled, last} like endItem-2: cancelled 1 when the item was queued and is now cancelled.
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return {0, 0} end
redis.call('HSET', KEYS[1], 'status', 'cancelled', 'finished_at', ARGV[1])
redis.call('HINCRBY', KEYS[2], 'queued', -1)
redis.call('HINCRBY', KEYS[2], 'cancelled', 1)
local c = redis.call('HMGET', KEYS[2], 'total', 'succeeded', 'failed', 'cancelled')
local ended = tonumber(c[2] or '0') + tonumber(c[3] or '0') + tonumber(c[4] or '0')
if ended >= tonumber(c[1] or '0') and redis.call('HSETNX', KEYS[2], 'finalize_claimed', ARGV[1]) == 1 then
  return {1, 1}
end
return {1, 0}
