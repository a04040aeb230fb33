--[[
  Counts a granted request from the moment it was sent instead of the moment it was granted. The
  provider counts a request when it arrives; between our grant and the send lie reference-image
  downloads, request building and, on a busy host, event-loop delays that vary from call to call.
  Counted at grant, a request that waited long frees its slot too early and the next one can reach
  the provider while the first is still inside the provider's window (a 429 at the window edge).
  The score only ever moves later, so this never lets more requests through than before.

  Input:
    KEYS[1] cfg hash
    KEYS[2] win zset
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] window member: "<leaseId>#<images>" (as written by grant)

  Output: 1 counted from now, 0 not in the window (already left it, or unknown)
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local TTL_SLACK_MS = 60000
local now = clockMs(ARGV[1])
if redis.call('ZSCORE', KEYS[2], ARGV[2]) == false then
  return 0
end
redis.call('ZADD', KEYS[2], 'XX', 'GT', now, ARGV[2])
local windowMs = tonumber(redis.call('HGET', KEYS[1], 'windowMs'))
if windowMs ~= nil then
  redis.call('PEXPIRE', KEYS[2], windowMs + TTL_SLACK_MS)
end
return 1
