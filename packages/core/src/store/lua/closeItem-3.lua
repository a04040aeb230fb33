--[[
  Ends an item that has not started as cancelled or expired (cancel, a deadline). Running items are
  left alone: they finish.

  KEYS[1] item hash
  KEYS[2] batch hash
  KEYS[3] outbox stream: the item that ends the batch is recorded there (its finalize), others not
  ARGV[1] final status: cancelled | expired
  ARGV[2] now (RFC 3339)
  ARGV[3] batch id
  ARGV[4] item id

  Returns {closed, last, retries}: closed 1 when the item was queued and is now closed; last as in
  endItem-3; retries is the item's retry round (its job id is item id, or item id + "-r<retries>").
]]
--- @include "includes/finalize.lua"
--- @include "includes/outbox.lua"

if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return {0, 0, 0} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'queued', -1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local retries = tonumber(redis.call('HGET', KEYS[1], 'retries') or '0')
if claimFinalizeIfDone(KEYS[2], ARGV[2]) then
  recordItemEnd(KEYS[3], ARGV[3], ARGV[4], ARGV[1], ARGV[2], 1)
  return {1, 1, retries}
end
return {1, 0, retries}
