--[[
  Claims the batch's finalize step when nothing is open, for callers that end no item themselves
  (a retry that found nothing to retry after re-opening the batch).

  KEYS[1] batch hash
  ARGV[1] now (RFC 3339)

  Returns 1 when this call claimed it.
]]
local c = redis.call('HMGET', KEYS[1], 'queued', 'running')
if tonumber(c[1] or '0') + tonumber(c[2] or '0') > 0 then return 0 end
return redis.call('HSETNX', KEYS[1], 'finalize_claimed', ARGV[1])
