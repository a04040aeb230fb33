--[[
  Read a circuit breaker's state without changing it.

  Input:
    KEYS[1] breaker hash
    ARGV[1] now in ms, or '' to use the Redis clock

  Output: 'closed' | 'open' | 'half-open'
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/circuit.lua"

return circuitStateOf(tonumber(redis.call('HGET', KEYS[1], 'openUntil')), clockMs(ARGV[1]))
