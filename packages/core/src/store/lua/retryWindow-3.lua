--[[
  Puts the ended items of one window of a batch's item list back to queued for another round (see
  includes/retry.lua): one call per few thousand items, so retrying a million items is a few hundred
  round trips. Their jobs are made by the feeder: for every model of the batch (the caller passes
  them) this call moves the feed cursor back to the first item it retried, if it was past it, and
  registers the batch in the model's feed set, in the same step, so no retried item is left without a
  job.

  KEYS[1] the batch's item list
  KEYS[2] batch hash
  KEYS[3] feed sets key prefix ("<prefix>:feed:"): the set of each model is prefix .. model
  ARGV[1] item key prefix ("<prefix>:item:")
  ARGV[2] position to start at
  ARGV[3] items to look at, at most
  ARGV[4] statuses that may be retried, comma-separated
  ARGV[5] batch id
  ARGV[6..] the batch's models

  The first call (position 0) also retries the batch's items that were never fed, at once, when
  their status (`unfed_status`, see closeQueued-3) is one of ARGV[4]: the feeder makes them again.

  Returns {next position, retried}: next position < start + ARGV[3] when the list ended.
]]
--- @include "includes/retry.lua"
--- @include "includes/window.lua"

local statuses = statusSet(ARGV[4])
local pos = tonumber(ARGV[2])
local stop = pos + tonumber(ARGV[3])
local retried = 0
local first
if pos == 0 then
  local b = redis.call('HMGET', KEYS[2], 'unfed', 'unfed_status')
  local unfed = tonumber(b[1] or '0')
  if b[2] and statuses[b[2]] then
    redis.call('HDEL', KEYS[2], 'unfed_status')
    if unfed > 0 then
      redis.call('HINCRBY', KEYS[2], b[2], -unfed)
      redis.call('HINCRBY', KEYS[2], 'queued', unfed)
      retried = unfed
      first = 0
    end
  end
end
pos = walkItems(KEYS[1], pos, stop, function(id, at)
  if retryItem(ARGV[1] .. id, KEYS[2], statuses) > 0 then
    retried = retried + 1
    first = first or at
  end
end)
if retried > 0 then
  for i = 6, #ARGV do
    local cursor = tonumber(redis.call('HGET', KEYS[2], 'feed:' .. ARGV[i]) or '0')
    if cursor > first then redis.call('HSET', KEYS[2], 'feed:' .. ARGV[i], first) end
    redis.call('SADD', KEYS[3] .. ARGV[i], ARGV[5])
  end
end
return {pos, retried}
