--[[
  Moves an item from queued to running and counts the attempt.

  KEYS[1] item hash
  KEYS[2] batch hash
  ARGV[1] now (RFC 3339)
  ARGV[2] runner: who runs it ('' for no lease)
  ARGV[3] lease in ms: how long the item stays the runner's without a renewal (itemLease-1.lua)

  The lease keeps a second worker from paying for the same images while the first one is alive but
  was silent long enough for its BullMQ lock to lapse (a long pause, a starved CPU): BullMQ then
  hands the job to another worker, which finds the item still leased and waits.

  Returns {state, attempts, waitMs}:
    state 'started'   the item was queued (or running with no live lease: a crashed worker) and now runs
    state 'busy'      another runner holds a live lease: try again in waitMs
    state 'ended'     the item already ended (succeeded, failed or cancelled): do nothing
    state 'missing'   no such item (a batch whose acceptance was rolled back)
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0, 0} end
if status ~= 'queued' and status ~= 'running' then
  return {'ended', tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0'), 0}
end
-- Redis's clock, so workers on hosts whose clocks drift agree on when a lease ends.
local now = clockMs()
if status == 'running' then
  local lease = redis.call('HMGET', KEYS[1], 'runner', 'runner_until')
  if lease[1] and lease[1] ~= ARGV[2] and tonumber(lease[2]) > now then
    return {'busy', tonumber(redis.call('HGET', KEYS[1], 'attempts') or '0'), tonumber(lease[2]) - now}
  end
end
if ARGV[2] ~= '' then
  redis.call('HSET', KEYS[1], 'runner', ARGV[2], 'runner_until', now + tonumber(ARGV[3]))
else
  redis.call('HDEL', KEYS[1], 'runner', 'runner_until')
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
return {'started', attempts, 0}
