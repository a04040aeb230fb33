--[[
  Gives items of a batch that were never fed (no record: insertChunk-4.lua) their record now, from
  their spec at their position, with the status the batch gives its unfed items (`unfed_status`, or
  queued), and takes them out of the batch's `unfed` count. The feeder later finds a queued one as it
  finds any queued item. Ids with a record, or not in the item list, are left alone. LPOS walks the
  item list once per id: for requests that name a few items (reviews), not for bulk work.

  KEYS[1] the batch's item list
  KEYS[2] the batch's spec list
  KEYS[3] batch hash
  ARGV[1] item key prefix ("<prefix>:item:")
  ARGV[2] batch id
  ARGV[3..] item ids

  Returns how many records it made.
]]
local b = redis.call('HMGET', KEYS[3], 'tenant_id', 'unfed_status')
if not b[1] then return 0 end
local made = 0
for i = 3, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  if redis.call('EXISTS', key) == 0 then
    local pos = redis.call('LPOS', KEYS[1], ARGV[i])
    local spec = pos and redis.call('LINDEX', KEYS[2], pos)
    if spec then
      redis.call('HSET', key, 'batch_id', ARGV[2], 'tenant_id', b[1], 'spec', spec,
        'status', b[2] or 'queued', 'attempts', 0)
      made = made + 1
    end
  end
end
if made > 0 then redis.call('HINCRBY', KEYS[3], 'unfed', -made) end
return made
