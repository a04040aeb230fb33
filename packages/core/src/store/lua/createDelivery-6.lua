--[[
  Creates a delivery record unless it exists (a step that ran twice), lists it in its batch's log
  and, for an endpoint's delivery, in the endpoint's log (newest last by a global sequence, trimmed to
  the newest ARGV[3]), and makes its first attempt due now, waking a waiting worker. One round trip:
  a record without its due entry cannot exist.

  KEYS[1] delivery hash
  KEYS[2] the batch's delivery list
  KEYS[3] the endpoint's delivery index (left alone for a batch webhook's delivery)
  KEYS[4] the global sequence counter
  KEYS[5] the deliveries due (zset: delivery id -> when its next attempt is due, ms)
  KEYS[6] the wake-up key of the delivery workers (zset, one member)
  ARGV[1] the delivery id
  ARGV[2] created_at
  ARGV[3] endpoint log size
  ARGV[4] '1' when the delivery is an endpoint's, else ''
  ARGV[5] now (ms)
  ARGV[6..] field, value pairs of the record

  Returns 1 when the record was new.
]]
if redis.call('HSETNX', KEYS[1], 'created_at', ARGV[2]) == 0 then return 0 end
local fields = {}
for i = 6, #ARGV do fields[#fields + 1] = ARGV[i] end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('RPUSH', KEYS[2], ARGV[1])
if ARGV[4] == '1' then
  local seq = redis.call('INCR', KEYS[4])
  redis.call('ZADD', KEYS[3], 0, string.format('%015d', seq) .. ':' .. ARGV[1])
  redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -tonumber(ARGV[3]) - 1)
end
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
redis.call('ZADD', KEYS[6], 0, 'due')
return 1
