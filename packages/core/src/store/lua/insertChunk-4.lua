--[[
  One chunk of a streamed ingest in one round trip: checks each item's custom_id against those seen
  so far in this ingest, appends the new items to the batch's item list and their specs to its spec
  list (same positions), and counts them. A realtime item has no record of its own until the feeder
  queues it (feedItems-5.lua creates it from its spec; the batch's `unfed` counts such items); an
  economy item gets its record now (its provider batch job reads it). Once a duplicate is seen (or
  ARGV[4] is 0: the ingest already failed) nothing more is written; the caller refuses the batch and
  rolls back what was written.

  KEYS[1] the ingest's custom_id hash (custom_id -> where it was first seen)
  KEYS[2] the batch's item list
  KEYS[3] the batch hash
  KEYS[4] the batch's spec list
  ARGV[1] item key prefix ("<prefix>:item:")
  ARGV[2] batch id
  ARGV[3] tenant id
  ARGV[4] 1 to write, 0 to check only
  ARGV[5..] per item, 5 values: custom_id, where (e.g. "line 7: custom_id"), item id, spec JSON,
            1 when the item waits for the feeder without a record (realtime), 0 for a record now

  Returns a flat list of (index (0-based), where first seen) for every duplicate.
]]
local write = ARGV[4] == '1'
local dups = {}
local ids = {}
local specs = {}
local unfed = 0
local n = (#ARGV - 4) / 5
for i = 0, n - 1 do
  local base = 5 + i * 5
  local customId, where, itemId, spec = ARGV[base], ARGV[base + 1], ARGV[base + 2], ARGV[base + 3]
  if redis.call('HSETNX', KEYS[1], customId, where) == 0 then
    dups[#dups + 1] = i
    dups[#dups + 1] = redis.call('HGET', KEYS[1], customId)
    write = false
  elseif write then
    if ARGV[base + 4] == '1' then
      unfed = unfed + 1
    else
      redis.call('HSET', ARGV[1] .. itemId, 'batch_id', ARGV[2], 'tenant_id', ARGV[3], 'spec', spec,
        'status', 'queued', 'attempts', 0)
    end
    ids[#ids + 1] = itemId
    specs[#specs + 1] = spec
  end
end
if #ids > 0 then
  redis.call('RPUSH', KEYS[2], unpack(ids))
  redis.call('RPUSH', KEYS[4], unpack(specs))
  redis.call('HINCRBY', KEYS[3], 'total', #ids)
  redis.call('HINCRBY', KEYS[3], 'queued', #ids)
  if unfed > 0 then redis.call('HINCRBY', KEYS[3], 'unfed', unfed) end
end
return dups
