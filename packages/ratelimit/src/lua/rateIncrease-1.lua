--[[
  AIMD additive increase of the effective rpm after a success, never above the declared rpm.

  Input:
    KEYS[1] cfg hash
    ARGV[1] fraction of the declared rpm added per success (the step is at least 1)

  Output:
    {1, effRpm}  the effective rpm after the increase (unchanged when already at declared)
    {-1}         no rpm declared (or resource not configured)
]]
local flat = redis.call('HMGET', KEYS[1], 'rpm', 'effRpm')
local rpm, eff = tonumber(flat[1]), tonumber(flat[2])
if rpm == nil then
  return {-1}
end
eff = eff or rpm
if eff >= rpm then
  return {1, rpm}
end
local step = math.max(1, math.floor(rpm * tonumber(ARGV[1])))
local raised = math.min(rpm, eff + step)
redis.call('HSET', KEYS[1], 'effRpm', raised)
return {1, raised}
