--[[
  Finds a batch's items that match every filter, in submission order, scanning the item list
  server-side so a page costs one round trip per few thousand items instead of moving every id and
  field to the API. Each call scans at most ARGV[4] items, so Redis is never blocked for long.

  KEYS[1] the batch's item list
  ARGV[1] item key prefix ("<prefix>:item:")
  ARGV[2] position to start at
  ARGV[3] matches wanted at most
  ARGV[4] items to scan at most
  ARGV[5..] filters, three arguments each: item hash field, value to match, value of a missing field
            (status; review_status, missing = pending; qa_status, missing = none)

  An item without a record (never fed) has every field's missing value: the caller passes the status
  the batch gives its unfed items as the status's.

  Returns {next position, item id, its position, item id, its position, ...}; next position = list
  length when the list ended.
]]
local pos = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local stop = pos + tonumber(ARGV[4])
local fields, values, defaults = {}, {}, {}
for i = 5, #ARGV, 3 do
  fields[#fields + 1] = ARGV[i]
  values[#values + 1] = ARGV[i + 1]
  defaults[#defaults + 1] = ARGV[i + 2]
end
local out = {0}
local found = 0
while pos < stop and found < want do
  local ids = redis.call('LRANGE', KEYS[1], pos, math.min(pos + 499, stop - 1))
  if #ids == 0 then break end
  for i = 1, #ids do
    pos = pos + 1
    local key = ARGV[1] .. ids[i]
    -- One field at a time, stopping at the first that does not match (most items fail the first).
    local ok = true
    for f = 1, #fields do
      local v = redis.call('HGET', key, fields[f])
      if not v then v = defaults[f] end
      if v ~= values[f] then ok = false break end
    end
    if ok then
      found = found + 1
      out[#out + 1] = ids[i]
      out[#out + 1] = pos - 1
      if found >= want then break end
    end
  end
end
out[1] = pos
return out
