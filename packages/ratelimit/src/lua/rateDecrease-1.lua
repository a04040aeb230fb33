--[[
  AIMD multiplicative decrease of the effective rpm after a 429.
  A burst of 429s for requests that were all sent before the previous decrease is one
  congestion signal, not many: when grantedAt is given and is not after the last decrease, the
  rate is left alone (as TCP halves once per window, not once per lost packet).

  Input:
    KEYS[1] cfg hash
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] factor in (0, 1)
    ARGV[3] grantedAt of the rate-limited request in ms, or ''

  Output:
    {1, effRpm}  decreased
    {0, effRpm}  skipped: the request predates the last decrease
    {-1}         no rpm declared (or resource not configured)
]]
--- @include "includes/clock.lua"

local now = clockMs(ARGV[1])
local flat = redis.call('HMGET', KEYS[1], 'rpm', 'effRpm', 'minRpm', 'lastDecreaseAt')
local rpm, eff, minRpm, last = tonumber(flat[1]), tonumber(flat[2]), tonumber(flat[3]), tonumber(flat[4])
if rpm == nil then
  return {-1}
end
eff = eff or rpm
if ARGV[3] ~= '' and last ~= nil and tonumber(ARGV[3]) <= last then
  return {0, eff}
end
local lowered = math.max(minRpm or 1, math.floor(eff * tonumber(ARGV[2])))
redis.call('HSET', KEYS[1], 'effRpm', lowered, 'lastDecreaseAt', now)
return {1, lowered}
