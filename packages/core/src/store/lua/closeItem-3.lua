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
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return {0, 0, 0} end
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2])
redis.call('HINCRBY', KEYS[2], 'queued', -1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
local retries = tonumber(redis.call('HGET', KEYS[1], 'retries') or '0')
local c = redis.call('HMGET', KEYS[2], 'queued', 'running')
if tonumber(c[1] or '0') + tonumber(c[2] or '0') <= 0
  and redis.call('HSETNX', KEYS[2], 'finalize_claimed', ARGV[2]) == 1 then
  redis.call('XADD', KEYS[3], '*', 'kind', 'item', 'batch', ARGV[3], 'item', ARGV[4], 'status', ARGV[1],
    'at', ARGV[2], 'last', 1)
  return {1, 1, retries}
end
return {1, 0, retries}
