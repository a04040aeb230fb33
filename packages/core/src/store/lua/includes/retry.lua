--[[
  Included by retryItem-2 and retryWindow-3 (POST /v1/batches/{id}/retry).
  Puts an ended item back to queued for another round, on the realtime lane. What its last round
  added to the batch (cost, images) is taken back: the next end adds the item's full totals again.
  Outputs it already stored stay, so a retry never pays for them twice. What earlier versions cost
  (archived_micros/images, a regeneration) stays the item's and the batch's.
]]
-- The item's new retry round (>= 1), or 0 when its status is not one of `statuses` (a set).
local function retryItem(itemKey, batchKey, statuses)
  local status = redis.call('HGET', itemKey, 'status')
  if not status or not statuses[status] then return 0 end
  local h = redis.call('HMGET', itemKey, 'cost_micros', 'images', 'archived_micros', 'archived_images')
  local keptCost = tonumber(h[3] or '0') or 0
  local keptImages = tonumber(h[4] or '0') or 0
  -- Subtract only non-zero amounts: Lua writes -0 as "-0", which HINCRBY refuses.
  local cost = (tonumber(h[1] or '0') or 0) - keptCost
  local images = (tonumber(h[2] or '0') or 0) - keptImages
  if cost ~= 0 then redis.call('HINCRBY', batchKey, 'actual_micros', 0 - cost) end
  if images ~= 0 then redis.call('HINCRBY', batchKey, 'images_generated', 0 - images) end
  redis.call('HINCRBY', batchKey, status, -1)
  redis.call('HINCRBY', batchKey, 'queued', 1)
  redis.call('HSET', itemKey, 'status', 'queued', 'attempts', 0, 'cost_micros', keptCost, 'images', keptImages,
    'lane', 'realtime')
  redis.call('HDEL', itemKey, 'error', 'finished_at', 'last_error', 'started_at')
  return redis.call('HINCRBY', itemKey, 'retries', 1)
end

-- "failed,cancelled" -> {failed = true, cancelled = true}
local function statusSet(list)
  local set = {}
  for s in string.gmatch(list, '[^,]+') do set[s] = true end
  return set
end
