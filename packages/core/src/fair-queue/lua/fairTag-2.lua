--[[
  Start-time fair queuing, enqueue side: give each new job of one flow (a tenant and a priority
  class) its start tag, S = max(V, F[flow]), then F[flow] = S + cost. The job's BullMQ priority is
  S + 1 (BullMQ's 0 means "no priority" and would jump every queue), capped at maxPriority: past
  that horizon, jobs keep FIFO order among themselves (see fair-queue.ts).

  The call also takes a tagging lease: while one is live, no rebase may shift priorities, since
  the jobs just tagged are not in the queue yet and would miss the shift.

  Input:
    KEYS[1] fair state hash: V (virtual time), F:<flow> (finish tag of each flow)
    KEYS[2] tagging leases zset: leaseId scored by expiry
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] leaseId
    ARGV[3] leaseMs
    ARGV[4] flow
    ARGV[5] maxPriority
    ARGV[6..] cost of each job (> 0), in order

  Output: {priority of each job}
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local now = clockMs(ARGV[1])
local maxPriority = tonumber(ARGV[5])
local field = 'F:' .. ARGV[4]
local flat = redis.call('HMGET', KEYS[1], 'V', field)
local v = tonumber(flat[1]) or 0
local s = math.max(v, tonumber(flat[2]) or 0)

local priorities = {}
for i = 6, #ARGV do
  priorities[#priorities + 1] = math.min(math.floor(s) + 1, maxPriority)
  s = s + tonumber(ARGV[i])
end
redis.call('HSET', KEYS[1], field, s)

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[2])
redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[3]) * 2)
return priorities
