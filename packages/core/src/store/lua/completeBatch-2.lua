--[[
  The finalize step's last write: the batch is complete and its manifest and results are in the bucket.
  Refused when items are open again (a retry re-opened the batch while this finalize ran): that
  round's own finalize completes it.

  Completing records the batch's event (batch.completed or batch.cancelled) in the outbox in the same
  step, once per round: a finalize that runs again for a completed round changes nothing.

  KEYS[1] batch hash
  KEYS[2] outbox stream
  ARGV[1] manifest key
  ARGV[2] results key
  ARGV[3] now (RFC 3339)
  ARGV[4] batch id

  Returns 1 when the batch is now complete (or already was), 0 when it was re-opened.
]]
--- @include "includes/outbox.lua"

local c = redis.call('HMGET', KEYS[1], 'queued', 'running', 'completed_at', 'round')
if tonumber(c[1] or '0') + tonumber(c[2] or '0') > 0 then return 0 end
if c[3] then return 1 end
redis.call('HSET', KEYS[1], 'manifest_key', ARGV[1], 'results_key', ARGV[2], 'completed_at', ARGV[3])
recordBatchEnd(KEYS[2], ARGV[4], c[4] or '0', ARGV[3])
return 1
