--[[
  The feeder's step 1 for one batch and one model: walks the batch's item list from the model's feed
  cursor, picks the queued items of that model (at most ARGV[3]), moves the cursor past what it looked
  at and records the picked items as pending under ARGV[5] before anyone adds their jobs (step 2,
  then clearPendingFeed). A crash between the steps leaves the record, and a later feeder run adds
  those jobs (adding a job id that exists changes nothing). Each call looks at ARGV[4] items at most,
  so Redis is never blocked for long.

  An item without a record (accepted, never fed: insertChunk-4.lua) gets it here, from its spec at the
  same position of the spec list, and leaves the batch's `unfed` count; none is made while the batch's
  unfed items count as closed (`unfed_status`, set by closeQueued-3).

  KEYS[1] the batch's item list
  KEYS[2] batch hash (cursor: field "feed:<model>")
  KEYS[3] the model's set of batches with items to feed
  KEYS[4] the model's pending feeds (hash: token -> "<batch id>\n<item id>:<round>,...")
  KEYS[5] the batch's spec list
  ARGV[1] item key prefix ("<prefix>:item:")
  ARGV[2] model id
  ARGV[3] items to pick at most
  ARGV[4] items to look at at most
  ARGV[5] token of this feed (its pending record)
  ARGV[6] batch id
  ARGV[7] 1 when the batch's items may differ in model or lane (each item's spec is then read)

  Returns {picked count, done, item id, round, item id, round, ...}: done 1 when the cursor reached
  the end of the list (the batch left the model's set) or the batch is gone or cancelled. A batch
  still being accepted (not yet visible) gives nothing and stays in the set: its jobs would only be
  handed back by every worker that took them (gateItem-3 'pending'), delaying the first calls.
]]
local b = redis.call('HMGET', KEYS[2], 'tenant_id', 'cancel_requested', 'feed:' .. ARGV[2], 'unfed_status', 'visible')
if not b[1] or b[2] then
  redis.call('SREM', KEYS[3], ARGV[6])
  return {0, 1}
end
if b[5] ~= '1' then return {0, 0} end
local pos = tonumber(b[3] or '0')
local stop = pos + tonumber(ARGV[4])
local want = tonumber(ARGV[3])
local inspect = ARGV[7] == '1'
local out = {0, 0}
local picked = {}
local made = 0
while pos < stop and #picked < want do
  local last = math.min(pos + 499, stop - 1)
  local ids = redis.call('LRANGE', KEYS[1], pos, last)
  if #ids == 0 then break end
  local specs
  local used = 0
  for i = 1, #ids do
    if #picked >= want then break end
    used = i
    local key = ARGV[1] .. ids[i]
    local item = redis.call('HMGET', key, 'status', 'retries', 'lane', 'spec')
    local mine
    if item[1] then
      mine = item[1] == 'queued'
      if mine and inspect then
        local spec = cjson.decode(item[4])
        mine = spec.model == ARGV[2] and (item[3] or spec.lane or 'realtime') == 'realtime'
      end
    elseif not b[4] then
      specs = specs or redis.call('LRANGE', KEYS[5], pos, last)
      local spec = specs[i]
      -- No spec either: an item list without specs (a batch rolled back under the feeder).
      mine = spec ~= nil and (not inspect or cjson.decode(spec).model == ARGV[2])
      if mine then
        redis.call('HSET', key, 'batch_id', ARGV[6], 'tenant_id', b[1], 'spec', spec, 'status', 'queued',
          'attempts', 0)
        made = made + 1
      end
    end
    if mine then
      picked[#picked + 1] = ids[i] .. ':' .. (item[2] or '0')
      out[#out + 1] = ids[i]
      out[#out + 1] = tonumber(item[2] or '0')
    end
  end
  pos = pos + used
  if used < #ids or #ids < 500 then break end
end
redis.call('HSET', KEYS[2], 'feed:' .. ARGV[2], pos)
if made > 0 then redis.call('HINCRBY', KEYS[2], 'unfed', -made) end
if pos >= redis.call('LLEN', KEYS[1]) then
  redis.call('SREM', KEYS[3], ARGV[6])
  out[2] = 1
end
out[1] = #picked
if #picked > 0 then
  redis.call('HSET', KEYS[4], ARGV[5], ARGV[6] .. '\n' .. table.concat(picked, ','))
end
return out
