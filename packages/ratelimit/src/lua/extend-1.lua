--[[
  Push a live lease's expiry to now + leaseMs (a long generation still running). A lease that
  has already expired is not revived: its slot may have been given to someone else.

  Input:
    KEYS[1] leases zset
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] leaseId
    ARGV[3] leaseMs

  Output: 1 extended, 0 lease unknown or expired
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local TTL_SLACK_MS = 60000
local now = clockMs(ARGV[1])
local leaseMs = tonumber(ARGV[3])
local expiry = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[2]))
if expiry == nil then
  return 0
end
if expiry <= now then
  redis.call('ZREM', KEYS[1], ARGV[2])
  return 0
end
redis.call('ZADD', KEYS[1], now + leaseMs, ARGV[2])
if redis.call('PTTL', KEYS[1]) < leaseMs + TTL_SLACK_MS then
  redis.call('PEXPIRE', KEYS[1], leaseMs + TTL_SLACK_MS)
end
return 1
