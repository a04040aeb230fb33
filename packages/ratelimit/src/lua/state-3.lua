--[[
  Snapshot of one resource for the API and metrics. Purges expired entries first so the counts
  are what the next tryAcquire would see.

  Input:
    KEYS[1] cfg hash, KEYS[2] win zset, KEYS[3] leases zset (as in tryAcquire-3)
    ARGV[1] now in ms, or '' to use the Redis clock

  Output:
    {-1}  resource not configured
    {1, now, rpm, ipm, concurrency, windowMs, minRpm, effRpm, inWindow, imagesInWindow,
        inFlight, cooldownUntil, parkedUntil}
    Undeclared limits and absent state are nil (false in Lua); parkedUntil -1 = indefinitely.
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/resource.lua"

local now = clockMs(ARGV[1])
local r = loadResource(KEYS[1])
if r == nil then
  return {-1}
end
purge(KEYS[1], KEYS[2], KEYS[3], r, now)

local function orFalse(v)
  if v == nil then return false end
  return v
end

local cooldownUntil = false
if r.cooldownUntil ~= nil and r.cooldownUntil > now then
  cooldownUntil = r.cooldownUntil
end
local parkedUntil = false
if r.parkedUntil ~= nil and (r.parkedUntil < 0 or r.parkedUntil > now) then
  parkedUntil = r.parkedUntil
end

return {1, now, orFalse(r.rpm), orFalse(r.ipm), orFalse(r.concurrency), r.windowMs,
  orFalse(r.minRpm), orFalse(effectiveRpm(r)), r.inWindow, r.winImages, r.inFlight,
  cooldownUntil, parkedUntil}
