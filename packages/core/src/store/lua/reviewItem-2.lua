--[[
  Records a review of one item (approve or reject, with a note) and `item.reviewed` in the outbox, in
  one step.

  KEYS[1] item hash
  KEYS[2] outbox stream
  ARGV[1] batch id (the item must belong to it)
  ARGV[2] item id
  ARGV[3] the review (JSON)
  ARGV[4] its status: approved | rejected
  ARGV[5] now (RFC 3339)

  Returns 1, or 0 when the item is not of this batch.
]]
if redis.call('HGET', KEYS[1], 'batch_id') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'review', ARGV[3], 'review_status', ARGV[4])
redis.call('XADD', KEYS[2], '*', 'kind', 'change', 'type', 'item.reviewed', 'batch', ARGV[1], 'item', ARGV[2],
  'key', ARGV[5] .. ':' .. ARGV[4], 'at', ARGV[5])
return 1
