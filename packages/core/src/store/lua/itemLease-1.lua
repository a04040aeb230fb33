--[[
  Renews or releases the lease a runner took with startItem-2.lua.

  KEYS[1] item hash
  ARGV[1] runner
  ARGV[2] lease in ms from now, or 0 to release it

  Returns 1 when the runner held the lease (now renewed or released); 0 when nobody holds one (the
  item ended or was requeued); -1 when another runner took the item over after this one's lease
  ran out.
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local runner = redis.call('HGET', KEYS[1], 'runner')
if not runner then return 0 end
if runner ~= ARGV[1] then return -1 end
if tonumber(ARGV[2]) == 0 then
  redis.call('HDEL', KEYS[1], 'runner', 'runner_until')
  return 1
end
local now = clockMs()
redis.call('HSET', KEYS[1], 'runner_until', now + tonumber(ARGV[2]))
return 1
