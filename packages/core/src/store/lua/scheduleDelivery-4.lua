--[[
  Makes a pending delivery due now unless it is due already or an attempt holds it: for a delivery
  queued as a BullMQ job by an earlier version.

  KEYS[1] the delivery hash
  KEYS[2] the deliveries due (zset: id -> ms)
  KEYS[3] the deliveries being attempted (zset: id -> when the lease lapses, ms)
  KEYS[4] the wake-up key of the delivery workers
  ARGV[1] now (ms)
  ARGV[2] the delivery id

  Returns 1 when it was made due.
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'pending' then return 0 end
if redis.call('ZSCORE', KEYS[3], ARGV[2]) then return 0 end
if redis.call('ZADD', KEYS[2], 'NX', ARGV[1], ARGV[2]) == 0 then return 0 end
redis.call('ZADD', KEYS[4], 0, 'due')
return 1
