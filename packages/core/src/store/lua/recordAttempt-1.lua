--[[
  Appends one attempt to a delivery's log and sets its outcome: one atomic step, one round trip.
  The attempts list is stored as JSON text and extended as text, so no number is re-encoded.

  KEYS[1] delivery hash
  ARGV[1] the attempt (a JSON object without `series`; added here from the record)
  ARGV[2] status
  ARGV[3] next_attempt_at ('' for none)
  ARGV[4] failure_reason ('' for none)

  Returns 0 when the delivery does not exist.
]]
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local series = redis.call('HGET', KEYS[1], 'redeliveries') or '0'
local attempt = string.sub(ARGV[1], 1, -2) .. ',"series":' .. tonumber(series) .. '}'
local list = redis.call('HGET', KEYS[1], 'attempts') or '[]'
if list == '[]' then list = '[' .. attempt .. ']' else list = string.sub(list, 1, -2) .. ',' .. attempt .. ']' end
redis.call('HSET', KEYS[1], 'attempts', list, 'status', ARGV[2], 'next_attempt_at', ARGV[3], 'failure_reason', ARGV[4])
return 1
