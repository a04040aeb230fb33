--[[
  May a request go through the breaker? Closed: yes. Open: no. Half-open: only one probe at a
  time; the probe holds a lease of probeLeaseMs until recordSuccess / recordFailure decides.

  Input:
    KEYS[1] breaker hash
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] probeLeaseMs

  Output: {allowed (1 | 0), state, retryInMs}
    retryInMs: when refused, how long until a request might pass (open: until half-open;
    half-open: until the current probe's lease ends); 0 when allowed.
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/circuit.lua"

local now = clockMs(ARGV[1])
local flat = redis.call('HMGET', KEYS[1], 'openUntil', 'probeUntil')
local openUntil = tonumber(flat[1])
local state = circuitStateOf(openUntil, now)
if state == 'closed' then
  return {1, state, 0}
end
if state == 'open' then
  return {0, state, openUntil - now}
end
local probeUntil = tonumber(flat[2])
if probeUntil ~= nil and now < probeUntil then
  return {0, state, probeUntil - now}
end
redis.call('HSET', KEYS[1], 'probeUntil', now + tonumber(ARGV[2]))
return {1, state, 0}
