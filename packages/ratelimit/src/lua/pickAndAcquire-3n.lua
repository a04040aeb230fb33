--[[
  Key rotation: evaluate several resources (e.g. the API keys of one model) and take a slot on
  the one with the most headroom among those that can grant now. Ties go to the earlier
  resource in KEYS, so callers may list their preferred keys first.

  Input:
    KEYS    3 per resource, in groups: cfg hash, win zset, leases zset (as in tryAcquire-3)

    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] images requested (>= 1)
    ARGV[3] leaseMs
    ARGV[4] leaseId (unique)
    ARGV[5] concurrencyPollMs
    ARGV[6] parkedPollMs

  Output (index is the 1-based position of the resource in the group list):
    {1, index, now}                  granted on resource index
    {0, reason, retryInMs, index}    none can grant; the shortest wait and its resource
    {-1, index}                      resource not configured
    {-2, index, ipm}                 more images requested than that resource's ipm
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/resource.lua"

local now = clockMs(ARGV[1])
local images = tonumber(ARGV[2])
local count = #KEYS / 3

local resources = {}
for i = 1, count do
  local r = loadResource(KEYS[i * 3 - 2])
  if r == nil then
    return {-1, i}
  end
  if r.ipm ~= nil and images > r.ipm then
    return {-2, i, r.ipm}
  end
  resources[i] = r
end

local best, bestHeadroom = nil, -1
local minWait, minReason, minIndex = nil, false, 0
for i = 1, count do
  local cfgKey, winKey, leaseKey = KEYS[i * 3 - 2], KEYS[i * 3 - 1], KEYS[i * 3]
  local r = resources[i]
  purge(cfgKey, winKey, leaseKey, r, now)
  local wait, reason, headroom =
    evaluate(r, winKey, leaseKey, now, images, tonumber(ARGV[5]), tonumber(ARGV[6]))
  if wait == 0 then
    if headroom > bestHeadroom then
      best, bestHeadroom = i, headroom
    end
  elseif minWait == nil or wait < minWait then
    minWait, minReason, minIndex = wait, reason, i
  end
end

if best == nil then
  return {0, minReason, minWait, minIndex}
end

grant(KEYS[best * 3 - 2], KEYS[best * 3 - 1], KEYS[best * 3], resources[best], now, ARGV[4], images,
  tonumber(ARGV[3]))
return {1, best, now}
