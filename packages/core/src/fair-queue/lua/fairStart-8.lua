--[[
  Start-time fair queuing, service side: a job is starting, so the virtual time V advances to its
  start tag (its BullMQ priority - 1, read from the job hash, which a rebase may have shifted).

  Rebase: BullMQ priorities end at maxPriority (2^21 - 1) while V only grows. When V reaches
  rebaseAt and no tagging lease is live, every tag is shifted down by floor(V) at once: V, each
  flow's finish tag, and the priority of every job of the queue (job hash field and the
  prioritized zset's score, whose low 32 bits, BullMQ's insertion counter, are kept). Jobs whose
  tag was already behind V get priority 1. Order between jobs is preserved, except among jobs
  that were capped at maxPriority, which stay in FIFO order. The cost is one pass over the queue's
  jobs, once every ~rebaseAt units of virtual time.

  Input:
    KEYS[1] fair state hash
    KEYS[2] tagging leases zset
    KEYS[3] the starting job's hash
    KEYS[4] prioritized zset, KEYS[5] delayed zset, KEYS[6] wait list, KEYS[7] paused list,
    KEYS[8] active list (BullMQ keys of the same queue)
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] job key prefix ("<prefix>:<queue>:")
    ARGV[3] rebaseAt

  Output: {V after the call (string), shift applied (0 = no rebase)}
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local now = clockMs(ARGV[1])
local prefix = ARGV[2]
local v = tonumber(redis.call('HGET', KEYS[1], 'V')) or 0
local p = tonumber(redis.call('HGET', KEYS[3], 'priority')) or 0
if p > 0 and p - 1 > v then
  v = p - 1
  redis.call('HSET', KEYS[1], 'V', v)
end

if v < tonumber(ARGV[3]) then
  return {tostring(v), 0}
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) > 0 then
  return {tostring(v), 0}
end

local shift = math.floor(v)
local COUNTER = 0x100000000
local function shifted(priority)
  return math.max(1, priority - shift)
end

redis.call('HSET', KEYS[1], 'V', v - shift)
local state = redis.call('HGETALL', KEYS[1])
for i = 1, #state, 2 do
  local name = state[i]
  if string.sub(name, 1, 2) == 'F:' then
    local finish = tonumber(state[i + 1]) - shift
    if finish <= v - shift then
      -- A flow whose finish tag is behind V would start at V anyway: forget it.
      redis.call('HDEL', KEYS[1], name)
    else
      redis.call('HSET', KEYS[1], name, finish)
    end
  end
end
redis.call('HINCRBY', KEYS[1], 'rebases', 1)

local prioritized = redis.call('ZRANGE', KEYS[4], 0, -1, 'WITHSCORES')
for i = 1, #prioritized, 2 do
  local id, score = prioritized[i], tonumber(prioritized[i + 1])
  local priority = math.floor(score / COUNTER)
  local counter = score - priority * COUNTER
  local np = shifted(priority)
  redis.call('ZADD', KEYS[4], np * COUNTER + counter, id)
  redis.call('HSET', prefix .. id, 'priority', np)
end

local function shiftJobs(ids)
  for _, id in ipairs(ids) do
    local jobKey = prefix .. id
    local priority = tonumber(redis.call('HGET', jobKey, 'priority')) or 0
    if priority > 0 then
      redis.call('HSET', jobKey, 'priority', shifted(priority))
    end
  end
end
shiftJobs(redis.call('ZRANGE', KEYS[5], 0, -1))
shiftJobs(redis.call('LRANGE', KEYS[6], 0, -1))
shiftJobs(redis.call('LRANGE', KEYS[7], 0, -1))
shiftJobs(redis.call('LRANGE', KEYS[8], 0, -1))

return {tostring(v - shift), shift}
