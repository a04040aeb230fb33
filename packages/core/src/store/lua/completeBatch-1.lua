--[[
  The finalize step's last write: the batch is complete and its manifest and results are in the bucket.
  Refused when items are open again (a retry re-opened the batch while this finalize ran): that
  round's own finalize completes it.

  KEYS[1] batch hash
  ARGV[1] manifest key
  ARGV[2] results key
  ARGV[3] now (RFC 3339)

  Returns 1 when the batch is now complete, 0 when it was re-opened.
]]
local c = redis.call('HMGET', KEYS[1], 'queued', 'running')
if tonumber(c[1] or '0') + tonumber(c[2] or '0') > 0 then return 0 end
redis.call('HSET', KEYS[1], 'manifest_key', ARGV[1], 'results_key', ARGV[2], 'completed_at', ARGV[3])
return 1
