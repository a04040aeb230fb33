--[[
  Per-target delivery rate limit: a sliding log of the sends of the last window per target, on Redis'
  clock so every worker agrees. Admits while fewer than `limit` sends are in the window; otherwise
  says how long to wait, spreading waiters at the limit's pace (KEYS[3] holds the last wake-up handed
  out) so a backlog wakes a few at a time instead of all at once.

  KEYS[1] the target's send log (sorted set: send sequence scored by send time)
  KEYS[2] the target's send sequence counter
  KEYS[3] the last wake-up handed out (ms since the epoch)
  ARGV[1] limit: sends per window
  ARGV[2] window in ms

  Returns 0 when admitted (the send is logged), else the ms to wait before asking again.
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local now = clockMs()
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) < limit then
  local seq = redis.call('INCR', KEYS[2])
  redis.call('ZADD', KEYS[1], now, seq)
  redis.call('PEXPIRE', KEYS[1], window * 2)
  redis.call('PEXPIRE', KEYS[2], window * 2)
  return 0
end
local oldest = tonumber(redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2])
local wake = oldest + window
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local spaced = last + math.ceil(window / limit)
if spaced > wake then wake = spaced end
redis.call('SET', KEYS[3], wake, 'PX', wake - now + window)
return wake - now
