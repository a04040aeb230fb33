--[[
  Starts a new attempt series of a delivery unless one is running: atomic, so two redelivers cannot
  both start. The series' first attempt is due now. When a series is running, its next attempt is
  brought forward to now if it is waiting for its time (not while an attempt holds it).

  KEYS[1] the delivery hash
  KEYS[2] the deliveries due (zset: id -> ms)
  KEYS[3] the wake-up key of the delivery workers
  ARGV[1] now (RFC 3339): the first attempt of the series is due
  ARGV[2] now (ms)
  ARGV[3] the delivery id

  Returns the series number (the delivery's redeliveries), -1 when a series is running (pending),
  -2 when there is no such delivery.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -2 end
if status == 'pending' then
  if redis.call('ZADD', KEYS[2], 'XX', 'LT', 'CH', ARGV[2], ARGV[3]) == 1 then
    redis.call('HSET', KEYS[1], 'next_attempt_at', ARGV[1])
    redis.call('ZADD', KEYS[3], 0, 'due')
  end
  return -1
end
local attempts = cjson.decode(redis.call('HGET', KEYS[1], 'attempts') or '[]')
local n = redis.call('HINCRBY', KEYS[1], 'redeliveries', 1)
redis.call('HSET', KEYS[1], 'status', 'pending', 'failure_reason', '', 'series_start', #attempts,
  'next_attempt_at', ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
redis.call('ZADD', KEYS[3], 0, 'due')
return n
