--[[
  Appends one attempt to a delivery (its series added from the record), sets the outcome and ends the
  attempt's lease in one round trip: a pending delivery becomes due again at ARGV[5], an ended one
  leaves the due set. The attempts list is stored as JSON text and extended as text, so no number is
  re-encoded.

  KEYS[1] the delivery hash
  KEYS[2] the deliveries due (zset: id -> ms)
  KEYS[3] the deliveries being attempted (zset: id -> when the lease lapses, ms)
  ARGV[1] the attempt (a JSON object, without its series)
  ARGV[2] status after it
  ARGV[3] next attempt at (RFC 3339, '' for none)
  ARGV[4] failure reason ('' for none)
  ARGV[5] next attempt at (ms, '' for none)
  ARGV[6] the delivery id

  Returns 1, or 0 when there is no such delivery.
]]
redis.call('ZREM', KEYS[3], ARGV[6])
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[2], ARGV[6])
  return 0
end
local series = redis.call('HGET', KEYS[1], 'redeliveries') or '0'
local attempt = string.sub(ARGV[1], 1, -2) .. ',"series":' .. tonumber(series) .. '}'
local list = redis.call('HGET', KEYS[1], 'attempts') or '[]'
if list == '[]' then list = '[' .. attempt .. ']' else list = string.sub(list, 1, -2) .. ',' .. attempt .. ']' end
redis.call('HSET', KEYS[1], 'attempts', list, 'status', ARGV[2], 'next_attempt_at', ARGV[3], 'failure_reason', ARGV[4])
if ARGV[2] == 'pending' and ARGV[5] ~= '' then
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[6])
else
  redis.call('ZREM', KEYS[2], ARGV[6])
end
return 1
