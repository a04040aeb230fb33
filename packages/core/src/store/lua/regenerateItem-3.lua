--[[
  Regeneration on request (POST /v1/batches/{id}/items/{item}/regenerate): an ended item's newest
  version is kept as version N (`ver:<N>`), the item takes its new spec (an edited prompt or
  parameters) and goes back to queued for version N+1, whose outputs are all generated again. Its
  review starts over (pending) and the newest version becomes the chosen one. What it has cost so far
  stays its cost, in the batch's totals too (archived_micros/images: its next end adds the new
  version's cost to it). Records `item.regenerated` in the outbox.

  KEYS[1] item hash
  KEYS[2] batch hash
  KEYS[3] outbox stream
  ARGV[1] now (RFC 3339)
  ARGV[2] the item's new spec (JSON)
  ARGV[3] cause of the new version (JSON)
  ARGV[4] batch id (the item must belong to it)
  ARGV[5] item id
  ARGV[6] most versions an item may have

  Returns {round, version}: the item's new retry round (its job id) and version; round -1 when the
  item is not of this batch, -2 when it is still queued or running, -3 when it has its most versions.
]]
local h = redis.call('HMGET', KEYS[1], 'status', 'batch_id', 'version', 'cause', 'version_at', 'started_at',
  'spec', 'cost_micros', 'images')
if not h[1] or h[2] ~= ARGV[4] then return {-1, 0} end
local status = h[1]
if status == 'queued' or status == 'running' then return {-2, 0} end
local v = tonumber(h[3] or '1')
if v >= tonumber(ARGV[6]) then return {-3, v} end
local fields = redis.call('HGETALL', KEYS[1])
local outs = {}
for i = 1, #fields, 2 do
  local f = fields[i]
  if string.sub(f, 1, 4) == 'out:' then
    outs[#outs + 1] = {tonumber(string.sub(f, 5)), fields[i + 1]}
    redis.call('HDEL', KEYS[1], f)
  end
end
table.sort(outs, function(a, b) return a[1] < b[1] end)
local json = {}
for i = 1, #outs do json[i] = outs[i][2] end
local spec = cjson.decode(h[7])
local archived = '{"version":' .. v .. ',"cause":' .. (h[4] or '{"reason":"initial"}') ..
  ',"created_at":' .. cjson.encode(h[5] or h[6] or ARGV[1]) .. ',"prompt":' .. cjson.encode(spec.prompt) ..
  ',"outputs":[' .. table.concat(json, ',') .. ']}'
-- What the item cost so far stays its cost (and in the batch's totals); its next end adds the new
-- version's cost on top (endItem-3).
local cost = tonumber(h[8] or '0') or 0
local images = tonumber(h[9] or '0') or 0
redis.call('HINCRBY', KEYS[2], status, -1)
redis.call('HINCRBY', KEYS[2], 'queued', 1)
redis.call('HSET', KEYS[1], 'ver:' .. v, archived, 'version', v + 1, 'cause', ARGV[3], 'version_at', ARGV[1],
  'spec', ARGV[2], 'status', 'queued', 'attempts', 0, 'archived_micros', cost, 'archived_images', images)
redis.call('HDEL', KEYS[1], 'chosen', 'qa_status', 'review', 'review_status', 'error', 'finished_at', 'last_error',
  'started_at', 'reused_from')
local round = redis.call('HINCRBY', KEYS[1], 'retries', 1)
redis.call('XADD', KEYS[3], '*', 'kind', 'change', 'type', 'item.regenerated', 'batch', ARGV[4], 'item', ARGV[5],
  'key', 'v' .. (v + 1), 'at', ARGV[1])
return {round, v + 1}
