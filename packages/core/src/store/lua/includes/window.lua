--[[
  Included by the scripts that walk a window of a batch's item list (closeQueued-3, retryWindow-3).
]]
-- Calls visit(item id, its position) for each item of the list from `pos` up to `stop` (excluded),
-- reading 500 ids a call; returns the position after the last item read (less than `stop` when the
-- list ended).
local function walkItems(listKey, pos, stop, visit)
  while pos < stop do
    local want = math.min(500, stop - pos)
    local ids = redis.call('LRANGE', listKey, pos, pos + want - 1)
    for i = 1, #ids do visit(ids[i], pos + i - 1) end
    pos = pos + #ids
    if #ids < want then break end
  end
  return pos
end
