--[[
  Take one request slot on a resource: checks parked, cooldown, concurrency leases, the sliding
  request window against the effective (AIMD) rpm and the images window, all at once, and on
  success records the request and a lease.

  Input:
    KEYS[1] cfg hash     (declared limits and state)
    KEYS[2] win zset     (granted requests scored by time)
    KEYS[3] leases zset  (leaseId scored by expiry)

    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] images requested (>= 1)
    ARGV[3] leaseMs
    ARGV[4] leaseId (unique)
    ARGV[5] concurrencyPollMs: upper bound of the hint when waiting for a lease
    ARGV[6] parkedPollMs: hint when parked indefinitely

  Output:
    {1, now}                 granted at now
    {0, reason, retryInMs}   denied; reason is parked|cooldown|concurrency|rpm|ipm
    {-1}                     resource not configured
    {-2, ipm}                more images requested than ipm allows in any window
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/resource.lua"

local now = clockMs(ARGV[1])
local images = tonumber(ARGV[2])

local r = loadResource(KEYS[1])
if r == nil then
  return {-1}
end
if r.ipm ~= nil and images > r.ipm then
  return {-2, r.ipm}
end

purge(KEYS[1], KEYS[2], KEYS[3], r, now)
local wait, reason = evaluate(r, KEYS[2], KEYS[3], now, images, tonumber(ARGV[5]), tonumber(ARGV[6]))
if wait > 0 then
  return {0, reason, wait}
end

grant(KEYS[1], KEYS[2], KEYS[3], r, now, ARGV[4], images, tonumber(ARGV[3]))
return {1, now}
