--[[
  Puts an ended item back to queued for another round (POST /v1/batches/{id}/retry). What its last
  round added to the batch (cost, images) is taken back: the next end adds the item's full totals
  again. Outputs it already stored stay, so a retry never pays for them twice. What earlier versions
  cost (archived_micros/images, a regeneration) stays the item's and the batch's.

  KEYS[1] item hash
  KEYS[2] batch hash
  ARGV[1] statuses that may be retried, comma-separated (e.g. "failed")

  Returns the item's new retry round (>= 1), or 0 when the item was not in one of those statuses.
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
local allowed = false
for s in string.gmatch(ARGV[1], '[^,]+') do
  if s == status then allowed = true end
end
if not allowed then return 0 end
local h = redis.call('HMGET', KEYS[1], 'cost_micros', 'images', 'archived_micros', 'archived_images')
local keptCost = tonumber(h[3] or '0') or 0
local keptImages = tonumber(h[4] or '0') or 0
-- Subtract only non-zero amounts: Lua writes -0 as "-0", which HINCRBY refuses.
local cost = (tonumber(h[1] or '0') or 0) - keptCost
local images = (tonumber(h[2] or '0') or 0) - keptImages
if cost ~= 0 then redis.call('HINCRBY', KEYS[2], 'actual_micros', 0 - cost) end
if images ~= 0 then redis.call('HINCRBY', KEYS[2], 'images_generated', 0 - images) end
redis.call('HINCRBY', KEYS[2], status, -1)
redis.call('HINCRBY', KEYS[2], 'queued', 1)
redis.call('HSET', KEYS[1], 'status', 'queued', 'attempts', 0, 'cost_micros', keptCost, 'images', keptImages)
redis.call('HDEL', KEYS[1], 'error', 'finished_at', 'last_error', 'started_at')
return redis.call('HINCRBY', KEYS[1], 'retries', 1)
