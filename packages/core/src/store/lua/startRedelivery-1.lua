--[[
  Starts a new attempt series of a delivery unless one is running: atomic, so two redelivers cannot
  both start.

  KEYS[1] the delivery hash
  ARGV[1] now (RFC 3339): the first attempt of the series is due

  Returns the series number (the delivery's redeliveries), -1 when a series is running (pending),
  -2 when there is no such delivery.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return -2 end
if status == 'pending' then return -1 end
local attempts = cjson.decode(redis.call('HGET', KEYS[1], 'attempts') or '[]')
local n = redis.call('HINCRBY', KEYS[1], 'redeliveries', 1)
redis.call('HSET', KEYS[1], 'status', 'pending', 'failure_reason', '', 'series_start', #attempts,
  'next_attempt_at', ARGV[1])
return n
