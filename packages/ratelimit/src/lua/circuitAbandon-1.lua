--[[
  Give back a half-open probe that was never sent (e.g. the limiter had no capacity for it), so
  the next caller may probe at once instead of waiting for the probe's lease to end. Only the
  probe lease of a breaker that is still half-open is dropped; the state is unchanged.

  Input:
    KEYS[1] breaker hash
    ARGV[1] now in ms, or '' to use the Redis clock

  Output: 1 dropped, 0 nothing to give back
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/circuit.lua"

local now = clockMs(ARGV[1])
if circuitStateOf(tonumber(redis.call('HGET', KEYS[1], 'openUntil')), now) ~= 'half-open' then
  return 0
end
return redis.call('HDEL', KEYS[1], 'probeUntil')
