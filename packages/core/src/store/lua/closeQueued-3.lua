--[[
  Ends the queued items in one window of a batch's item list as cancelled or expired (cancel, a
  deadline): one call per few thousand items instead of one script per item, so a batch of a million
  is closed in a few hundred round trips. Running items are left alone: they finish. Each call looks
  at ARGV[3] items at most, so Redis is never blocked for long.

  KEYS[1] the batch's item list
  KEYS[2] batch hash
  KEYS[3] outbox stream: the item whose close ends the batch is recorded there (its finalize)
  ARGV[1] item key prefix ("<prefix>:item:"); every item hash is under it, in the same slot
  ARGV[2] position to start at
  ARGV[3] items to look at, at most
  ARGV[4] final status: cancelled | expired
  ARGV[5] now (RFC 3339)
  ARGV[6] batch id

  The first call (position 0) also closes the batch's items that were never fed (no record; the
  batch's `unfed` count) at once: they count as closed and `unfed_status` records what they are, so
  the feeder never makes them.

  Returns {next position, last, id, retries, id, retries, ...}: the position after the last item
  looked at (less than start + ARGV[3] when the list ended), last 1 when this call ended the batch
  (as in endItem-3), then each closed item with its retry round (its job id is the item id, or item
  id + "-r<retries>").
]]
--- @include "includes/finalize.lua"
--- @include "includes/outbox.lua"
--- @include "includes/window.lua"

local pos = tonumber(ARGV[2])
local stop = pos + tonumber(ARGV[3])
local out = {0, 0}
local closed = 0
local lastClosed
if pos == 0 then
  local b = redis.call('HMGET', KEYS[2], 'unfed', 'unfed_status')
  local unfed = tonumber(b[1] or '0')
  if not b[2] and unfed > 0 then
    redis.call('HSET', KEYS[2], 'unfed_status', ARGV[4])
    closed = unfed
    -- Names the batch's end in the outbox (its finalize) should this call end it.
    lastClosed = redis.call('LINDEX', KEYS[1], -1)
  end
end
pos = walkItems(KEYS[1], pos, stop, function(id)
  local key = ARGV[1] .. id
  local item = redis.call('HMGET', key, 'status', 'retries')
  if item[1] == 'queued' then
    redis.call('HSET', key, 'status', ARGV[4], 'finished_at', ARGV[5])
    closed = closed + 1
    lastClosed = id
    out[#out + 1] = id
    out[#out + 1] = tonumber(item[2] or '0')
  end
end)
out[1] = pos
if closed > 0 then
  redis.call('HINCRBY', KEYS[2], 'queued', -closed)
  redis.call('HINCRBY', KEYS[2], ARGV[4], closed)
  if claimFinalizeIfDone(KEYS[2], ARGV[5]) then
    recordItemEnd(KEYS[3], ARGV[6], lastClosed, ARGV[4], ARGV[5], 1)
    out[2] = 1
  end
end
return out
