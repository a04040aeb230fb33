--[[
  Claims up to ARGV[3] deliveries for attempts: first those whose lease lapsed (their worker died or
  stalled mid-attempt), then those due, oldest first. A claimed delivery holds a lease until
  ARGV[1] + ARGV[2] and is read in the same step: the fields an attempt needs. An entry whose record
  is gone or ended (a redelivery raced an old entry) is dropped. When more are due than this claim
  took, the wake-up key is set so another waiting worker claims too.

  KEYS[1] the deliveries due (zset: id -> when its next attempt is due, ms)
  KEYS[2] the deliveries being attempted (zset: id -> when the lease lapses, ms)
  KEYS[3] the wake-up key of the delivery workers (zset, one member)
  ARGV[1] now (ms)
  ARGV[2] lease (ms)
  ARGV[3] how many at most
  ARGV[4] the delivery hash key prefix (the id follows)

  Returns {leases recovered, when the next one is due or lapses (ms, -1 for none), then per claimed
  delivery: id, body, status, batch_id, endpoint_id, webhook_id, attempts, series_start}.
]]
local now = tonumber(ARGV[1])
local leaseUntil = now + tonumber(ARGV[2])
local max = tonumber(ARGV[3])
local out = {0, -1}
local claimed = 0

local function take(id, recovered)
  local f = redis.call('HMGET', ARGV[4] .. id, 'body', 'status', 'batch_id', 'endpoint_id', 'webhook_id',
    'attempts', 'series_start')
  redis.call('ZREM', KEYS[1], id)
  if not f[1] or f[2] ~= 'pending' then
    redis.call('ZREM', KEYS[2], id)
    return
  end
  redis.call('ZADD', KEYS[2], leaseUntil, id)
  out[#out + 1] = id
  for i = 1, 7 do out[#out + 1] = f[i] end
  claimed = claimed + 1
  if recovered then out[1] = out[1] + 1 end
end

for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, max)) do take(id, true) end
if claimed < max then
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, max - claimed)) do
    take(id, false)
  end
end

local nextAt = -1
local due = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if due[2] then nextAt = tonumber(due[2]) end
local lapse = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
if lapse[2] and (nextAt == -1 or tonumber(lapse[2]) < nextAt) then nextAt = tonumber(lapse[2]) end
if nextAt ~= -1 and nextAt <= now then redis.call('ZADD', KEYS[3], 0, 'due') end
out[2] = nextAt
return out
