--[[
  Decides, each time a worker picks up an item's job, whether the item may run. A queued item of a
  batch that was cancelled, or whose deadline passed, ends here without using any provider capacity.

  KEYS[1] item hash
  KEYS[2] batch hash
  KEYS[3] outbox stream: an item this call ends that ends the batch is recorded there (its finalize)
  ARGV[1] now (RFC 3339)
  ARGV[2] now (ms since the epoch)
  ARGV[3] runner asking ('' for any): see the lease in startItem-2.lua
  ARGV[4] batch id
  ARGV[5] item id
  ARGV[6] the retry round the job was made for ('' for a caller without one): a job of an older round
          than the item's (a job a cancel left in its queue, then a retry made a new one) is stale

  Returns {state, last, waitMs}:
    'go'        run it (queued, or running with no live lease of another runner: a crashed worker)
    'busy'      running under another runner's live lease: look again in waitMs (before taking
                any provider capacity; startItem-2 makes the same check atomically with the start)
    'pending'   the batch is still being ingested (invisible): try again shortly; never pay before
                acceptance is complete, since a failed ingest is rolled back
    'missing'   no such item (a rolled-back ingest)
    'ended'     already ended, or the job is stale (ARGV[6])
    'cancelled' / 'expired'  ended by this call; last as in endItem-3
]]
--- @include "@pixelmill/redis-scripts/clock.lua"
--- @include "includes/finalize.lua"
--- @include "includes/outbox.lua"

local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing', 0} end
if status ~= 'queued' and status ~= 'running' then return {'ended', 0} end
if ARGV[6] ~= '' and tonumber(redis.call('HGET', KEYS[1], 'retries') or '0') > tonumber(ARGV[6]) then
  return {'ended', 0}
end
local b = redis.call('HMGET', KEYS[2], 'visible', 'cancel_requested', 'expires_at_ms')
if b[1] ~= '1' then return {'pending', 0} end
if status == 'running' then
  local lease = redis.call('HMGET', KEYS[1], 'runner', 'runner_until')
  if lease[1] and lease[1] ~= ARGV[3] then
    local wait = tonumber(lease[2]) - clockMs()
    if wait > 0 then return {'busy', 0, wait} end
  end
  return {'go', 0}
end
local final = false
if b[2] then
  final = 'cancelled'
elseif b[3] and tonumber(b[3]) <= tonumber(ARGV[2]) then
  final = 'expired'
end
if not final then return {'go', 0} end
redis.call('HSET', KEYS[1], 'status', final, 'finished_at', ARGV[1])
redis.call('HINCRBY', KEYS[2], 'queued', -1)
redis.call('HINCRBY', KEYS[2], final, 1)
if claimFinalizeIfDone(KEYS[2], ARGV[1]) then
  recordItemEnd(KEYS[3], ARGV[4], ARGV[5], final, ARGV[1], 1)
  return {final, 1}
end
return {final, 0}
