--[[
  Moves an item from queued to running and counts the attempt.

  KEYS[1] item hash
  KEYS[2] batch hash
  ARGV[1] now (RFC 3339)

  Returns {state, attempts}:
    state 'started'   the item was queued (or already running after a crashed worker) and now runs
    state 'ended'     the item already ended (succeeded, failed or cancelled): do nothing
    state 'missing'   no such item (a batch whose acceptance was rolled back)
]]
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
if status ~= 'queued' and status ~= 'running' then
  return {'ended', tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0')}
end
if status == 'queued' then
  redis.call('HINCRBY', KEYS[2], 'queued', -1)
  redis.call('HINCRBY', KEYS[2], 'running', 1)
  redis.call('HSET', KEYS[1], 'status', 'running')
end
if not redis.call('HGET', KEYS[1], 'started_at') then
  redis.call('HSET', KEYS[1], 'started_at', ARGV[1])
end
redis.call('HSETNX', KEYS[2], 'started_at', ARGV[1])
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
return {'started', attempts}
