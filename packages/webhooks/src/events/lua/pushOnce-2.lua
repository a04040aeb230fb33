--[[
  Appends an item's entry to a waiting group once per `once` member: the relay may run an item end
  twice, and the entry (fresh presigned links) differs each time, so the item end itself is what is
  remembered.

  KEYS[1] the group's list of waiting entries
  KEYS[2] the set of `once` members the group already holds
  ARGV[1] entry (JSON)
  ARGV[2] once: the item end (item id and finished_at)
  ARGV[3] how long the set remembers its members, in seconds

  Returns the list's length after the append, or 0 when this item end was already appended.
]]
if redis.call('SADD', KEYS[2], ARGV[2]) == 0 then return 0 end
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[3]))
return redis.call('RPUSH', KEYS[1], ARGV[1])
