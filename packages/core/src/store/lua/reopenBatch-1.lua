--[[
  Re-opens an ended (or ending) batch for a retry round: it will finalize again when the retried
  items end. A deadline that has passed is dropped, or the retried items would expire at once; a
  cancel request is dropped too (retrying is the opposite of cancelling).

  KEYS[1] batch hash
  ARGV[1] now (ms since the epoch)

  Returns the new round number.
]]
redis.call('HDEL', KEYS[1], 'finalize_claimed', 'completed_at', 'manifest_key', 'results_key', 'cancel_requested')
local deadline = redis.call('HGET', KEYS[1], 'expires_at_ms')
if deadline and tonumber(deadline) <= tonumber(ARGV[1]) then redis.call('HDEL', KEYS[1], 'expires_at_ms') end
return redis.call('HINCRBY', KEYS[1], 'round', 1)
