--[[
  Record the outcome of a call through a breaker.
    success: closed stays closed with the failure count reset; half-open closes (the probe
             passed); open stays open (a late answer to a call sent before it opened proves
             nothing about now).
    failure: closed counts it and opens at threshold consecutive failures; half-open re-opens
             for openMs (the probe failed); open stays as it is.

  Input:
    KEYS[1] breaker hash
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] 'success' | 'failure'
    ARGV[3] threshold: consecutive failures that open the breaker
    ARGV[4] openMs: how long it stays open before half-open

  Output: the state after recording: 'closed' | 'open' | 'half-open'
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/circuit.lua"

local now = clockMs(ARGV[1])
local state = circuitStateOf(tonumber(redis.call('HGET', KEYS[1], 'openUntil')), now)
if state == 'open' then
  return state
end

if ARGV[2] == 'success' then
  redis.call('DEL', KEYS[1])
  return 'closed'
end

if state == 'closed' then
  local failures = redis.call('HINCRBY', KEYS[1], 'failures', 1)
  if failures < tonumber(ARGV[3]) then
    return 'closed'
  end
end
redis.call('HSET', KEYS[1], 'openUntil', now + tonumber(ARGV[4]))
redis.call('HDEL', KEYS[1], 'failures', 'probeUntil')
return 'open'
