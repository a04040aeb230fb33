--[[
  Block acquisition on a resource for ms (after a 429 with a retry hint). An existing longer
  cooldown is kept: a short hint arriving late must not cut a longer one.

  Input:
    KEYS[1] cfg hash
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] ms

  Output: the cooldown end time in ms
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local untilMs = clockMs(ARGV[1]) + tonumber(ARGV[2])
local current = tonumber(redis.call('HGET', KEYS[1], 'cooldownUntil'))
if current ~= nil and current > untilMs then
  return current
end
redis.call('HSET', KEYS[1], 'cooldownUntil', untilMs)
return untilMs
