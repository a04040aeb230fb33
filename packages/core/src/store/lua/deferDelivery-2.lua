--[[
  Ends an attempt's lease without an attempt (its target had no free slot or its rate limit was used
  up, or the worker is handing it back): the delivery is due again at ARGV[2]. A lease that already
  lapsed and was claimed again is left to its new holder.

  KEYS[1] the deliveries being attempted (zset: id -> when the lease lapses, ms)
  KEYS[2] the deliveries due (zset: id -> ms)
  ARGV[1] the delivery id
  ARGV[2] when it is due again (ms)

  Returns 1, or 0 when this lease was no longer held.
]]
if redis.call('ZREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
