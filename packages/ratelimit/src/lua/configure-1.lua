--[[
  Store a resource's declared limits. Learned state (effective rpm, cooldown, park, window
  counters) is kept, so that every worker may call this at start-up without undoing what AIMD
  has learned; the effective rpm is only clamped to the new declared rpm.

  Input:
    KEYS[1] cfg hash
    ARGV[1] rpm, ARGV[2] ipm, ARGV[3] concurrency, ARGV[4] windowMs, ARGV[5] minRpm, ARGV[6] burst
            ('' = not declared, except windowMs which is always given)

  Output: 1
]]
local fields = {'rpm', 'ipm', 'concurrency', 'windowMs', 'minRpm', 'burst'}
for i, field in ipairs(fields) do
  if ARGV[i] == '' then
    redis.call('HDEL', KEYS[1], field)
  else
    redis.call('HSET', KEYS[1], field, ARGV[i])
  end
end

if ARGV[1] == '' then
  -- Without a declared rpm there is nothing for AIMD to scale.
  redis.call('HDEL', KEYS[1], 'effRpm', 'lastDecreaseAt', 'lastIncreaseAt', 'lastEdgeAt')
else
  local rpm = tonumber(ARGV[1])
  local eff = tonumber(redis.call('HGET', KEYS[1], 'effRpm'))
  if eff == nil or eff > rpm then
    redis.call('HSET', KEYS[1], 'effRpm', rpm)
  end
end
return 1
