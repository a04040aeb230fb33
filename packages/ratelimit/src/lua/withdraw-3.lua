--[[
  Gives back a grant whose request was never sent (the item turned out to be another runner's, the
  key's trial was taken meanwhile, building the request failed): its window entry and its lease go,
  so the slot is used by another request in this window instead of being lost for a whole window.
  A request that was sent is never withdrawn (the provider counted it); callers release those.

  Input:
    KEYS[1] cfg hash
    KEYS[2] win zset
    KEYS[3] leases zset
    ARGV[1] window member: "<leaseId>#<images>" (as written by grant)
    ARGV[2] leaseId

  Output: 1 the window entry was removed, 0 it had already left the window (or was unknown)
]]

local removed = redis.call('ZREM', KEYS[2], ARGV[1])
if removed == 1 then
  local images = tonumber(string.match(ARGV[1], '#(%d+)$')) or 1
  local left = redis.call('HINCRBY', KEYS[1], 'winImages', -images)
  if left < 0 then
    redis.call('HSET', KEYS[1], 'winImages', 0)
  end
end
redis.call('ZREM', KEYS[3], ARGV[2])
return removed
