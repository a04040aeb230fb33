--[[
  AIMD additive increase of the effective rpm after a success, never above the declared rpm.
  One step per window at most, and none for holdWindows windows after a decrease: a success says
  the current rate works, not that a higher one would. Stepping up on every success (as before)
  took a rate cut for a real limit of 40 back to a declared 60 within ten successes, to be refused
  again in the same window.

  Input:
    KEYS[1] cfg hash
    ARGV[1] fraction of the declared rpm added per step (the step is at least 1)
    ARGV[2] now in ms, or '' to use the Redis clock
    ARGV[3] holdWindows: windows after a decrease without any increase

  Output:
    {1, effRpm}  the effective rpm after the call (unchanged when already at declared or held)
    {-1}         no rpm declared (or resource not configured)
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local flat = redis.call('HMGET', KEYS[1], 'rpm', 'effRpm', 'windowMs', 'lastDecreaseAt', 'lastIncreaseAt')
local rpm, eff, windowMs = tonumber(flat[1]), tonumber(flat[2]), tonumber(flat[3])
local lastDecrease, lastIncrease = tonumber(flat[4]), tonumber(flat[5])
if rpm == nil then
  return {-1}
end
eff = eff or rpm
if eff >= rpm then
  return {1, rpm}
end
local now = clockMs(ARGV[2])
windowMs = windowMs or 60000
if lastDecrease ~= nil and now - lastDecrease < tonumber(ARGV[3]) * windowMs then
  return {1, eff}
end
if lastIncrease ~= nil and now - lastIncrease < windowMs then
  return {1, eff}
end
local step = math.max(1, math.floor(rpm * tonumber(ARGV[1])))
local raised = math.min(rpm, eff + step)
redis.call('HSET', KEYS[1], 'effRpm', raised, 'lastIncreaseAt', now)
return {1, raised}
