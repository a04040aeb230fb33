--[[
  Starts a new version of a running item whose outputs QA flagged (batch `qa.on_flag: regenerate`):
  the newest version's outputs are kept as version N (`ver:<N>`), the flagged ones leave the current
  outputs (the worker generates them again at the version's keys), the unflagged ones carry over.
  What the replaced images cost stays counted on the item (archived_micros/images, added at its end).
  Records `item.regenerated` in the outbox in the same step.

  KEYS[1] item hash
  KEYS[2] outbox stream
  ARGV[1] now (RFC 3339)
  ARGV[2] output indexes that carry over, comma-separated ('' for none)
  ARGV[3] cause of the new version (JSON)
  ARGV[4] cost of the replaced images in micro-dollars
  ARGV[5] replaced images
  ARGV[6] batch id
  ARGV[7] item id
  ARGV[8] most versions an item may have

  Returns the new version's number, or 0 when the item is not running or has its most versions.
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '1')
if v >= tonumber(ARGV[8]) then return 0 end
local keep = {}
for i in string.gmatch(ARGV[2], '[^,]+') do keep['out:' .. i] = true end
local fields = redis.call('HGETALL', KEYS[1])
local outs = {}
for i = 1, #fields, 2 do
  local f = fields[i]
  if string.sub(f, 1, 4) == 'out:' then
    outs[#outs + 1] = {tonumber(string.sub(f, 5)), fields[i + 1]}
    if not keep[f] then redis.call('HDEL', KEYS[1], f) end
  end
end
table.sort(outs, function(a, b) return a[1] < b[1] end)
local json = {}
for i = 1, #outs do json[i] = outs[i][2] end
local h = redis.call('HMGET', KEYS[1], 'cause', 'version_at', 'started_at', 'spec')
local spec = cjson.decode(h[4])
local archived = '{"version":' .. v .. ',"cause":' .. (h[1] or '{"reason":"initial"}') ..
  ',"created_at":' .. cjson.encode(h[2] or h[3] or ARGV[1]) .. ',"prompt":' .. cjson.encode(spec.prompt) ..
  ',"outputs":[' .. table.concat(json, ',') .. ']}'
redis.call('HSET', KEYS[1], 'ver:' .. v, archived, 'version', v + 1, 'cause', ARGV[3], 'version_at', ARGV[1])
redis.call('HDEL', KEYS[1], 'chosen')
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'qa_status', 'passed') else redis.call('HDEL', KEYS[1], 'qa_status') end
if tonumber(ARGV[4]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'archived_micros', tonumber(ARGV[4])) end
if tonumber(ARGV[5]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'archived_images', tonumber(ARGV[5])) end
redis.call('XADD', KEYS[2], '*', 'kind', 'change', 'type', 'item.regenerated', 'batch', ARGV[6], 'item', ARGV[7],
  'key', 'v' .. (v + 1), 'at', ARGV[1])
return v + 1
