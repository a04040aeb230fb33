--[[
  Puts a running item back to queued (it will be retried after a backoff).

  KEYS[1] item hash
  KEYS[2] batch hash
  ARGV[1] error JSON of the last attempt (kept for display while the item waits)
  ARGV[2] 1 to give back the attempt counted by startItem (the call was a rate-limit wait), else 0
  ARGV[3] runner ('' for any): a runner whose lease another one has taken over changes nothing

  Returns 1 if the item was running and is now queued (its lease released), 0 otherwise.
]]
if redis.call('HGET', KEYS[1], 'status') ~= 'running' then return 0 end
local runner = redis.call('HGET', KEYS[1], 'runner')
if runner and ARGV[3] ~= '' and runner ~= ARGV[3] then return 0 end
redis.call('HDEL', KEYS[1], 'runner', 'runner_until')
redis.call('HSET', KEYS[1], 'status', 'queued', 'last_error', ARGV[1])
redis.call('HINCRBY', KEYS[2], 'running', -1)
redis.call('HINCRBY', KEYS[2], 'queued', 1)
if ARGV[2] == '1' then redis.call('HINCRBY', KEYS[1], 'attempts', -1) end
return 1
