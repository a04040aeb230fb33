--[[
  Ends an item exactly once and updates the batch counters in the same step, recording the end in
  the outbox in that same step (the relay turns it into webhook events and, for the last item, the
  finalize job), so no crash between ending an item and reporting it loses the report.

  KEYS[1] item hash
  KEYS[2] batch hash
  KEYS[3] outbox stream
  ARGV[1] final status: succeeded | failed | cancelled | expired
  ARGV[2] now (RFC 3339)
  ARGV[3] error JSON ('' for none)
  ARGV[4] cost in micro-dollars (integer)
  ARGV[5] images generated (integer)
  ARGV[6] provider name ('' if none)
  ARGV[7] batch id
  ARGV[8] item id

  Cost and images include what the item's earlier versions cost (archived_micros/images: a
  regeneration), so the item and the batch count every provider call. The batch's totals stay the sum
  of its items' (an item's cost_micros before this end is already in them).

  Returns {ended, last}:
    ended 1 if this call ended the item, 0 if it had already ended (a duplicate delivery of the job)
    last  1 if this call ended the batch's last open item; exactly one caller per round ever sees 1
]]
--- @include "includes/finalize.lua"
--- @include "includes/outbox.lua"

local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'queued' and status ~= 'running' then return {0, 0} end
local prior = redis.call('HMGET', KEYS[1], 'archived_micros', 'archived_images', 'cost_micros', 'images')
local cost = tonumber(ARGV[4]) + tonumber(prior[1] or '0')
local images = tonumber(ARGV[5]) + tonumber(prior[2] or '0')
-- The batch's totals are the sum of its items': it gains what this end adds to the item's.
local addCost = cost - tonumber(prior[3] or '0')
local addImages = images - tonumber(prior[4] or '0')
redis.call('HSET', KEYS[1], 'status', ARGV[1], 'finished_at', ARGV[2], 'error', ARGV[3], 'cost_micros', cost,
  'images', images)
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'provider', ARGV[6]) end
redis.call('HDEL', KEYS[1], 'last_error', 'runner', 'runner_until')
redis.call('HINCRBY', KEYS[2], status, -1)
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
if addCost ~= 0 then redis.call('HINCRBY', KEYS[2], 'actual_micros', addCost) end
if addImages ~= 0 then redis.call('HINCRBY', KEYS[2], 'images_generated', addImages) end
local last = claimFinalizeIfDone(KEYS[2], ARGV[2]) and 1 or 0
recordItemEnd(KEYS[3], ARGV[7], ARGV[8], ARGV[1], ARGV[2], last)
return {1, last}
