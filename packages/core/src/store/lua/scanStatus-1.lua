--[[
  Finds a batch's items in one status, in submission order, scanning the item list server-side so a
  page costs one round trip per few thousand items instead of moving every id and status to the API.
  Each call scans at most ARGV[5] items, so Redis is never blocked for long.

  KEYS[1] the batch's item list
  ARGV[1] item key prefix ("<prefix>:item:")
  ARGV[2] position to start at
  ARGV[3] status to match
  ARGV[4] matches wanted at most
  ARGV[5] items to scan at most

  Returns {next position, matching item ids...}; next position = list length when the list ended.
]]
local pos = tonumber(ARGV[2])
local want = tonumber(ARGV[4])
local stop = pos + tonumber(ARGV[5])
local out = {0}
local found = 0
while pos < stop and found < want do
  local ids = redis.call('LRANGE', KEYS[1], pos, math.min(pos + 499, stop - 1))
  if #ids == 0 then break end
  for i = 1, #ids do
    pos = pos + 1
    if redis.call('HGET', ARGV[1] .. ids[i], 'status') == ARGV[3] then
      found = found + 1
      out[#out + 1] = ids[i]
      if found >= want then break end
    end
  end
end
out[1] = pos
return out
