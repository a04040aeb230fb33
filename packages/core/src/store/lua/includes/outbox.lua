--[[
  Included by the scripts that record an end in the outbox stream in the same step as the end itself
  (endItem-3, closeItem-3, gateItem-3, completeBatch-2); the relay turns the entries into webhook
  events and, for an item's entry with last = 1, the batch's finalize job.
]]
local function recordItemEnd(outboxKey, batchId, itemId, status, at, last)
  redis.call('XADD', outboxKey, '*', 'kind', 'item', 'batch', batchId, 'item', itemId, 'status', status,
    'at', at, 'last', last)
end

local function recordBatchEnd(outboxKey, batchId, round, at)
  redis.call('XADD', outboxKey, '*', 'kind', 'batch', 'batch', batchId, 'round', round, 'at', at)
end
