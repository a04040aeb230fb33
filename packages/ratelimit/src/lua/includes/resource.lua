--[[
  Included by tryAcquire-3, pickAndAcquire-3n and state-3: load one resource, purge what has
  expired, evaluate its limits and record a grant.

  Keys of one resource:
    cfg    hash: declared limits (rpm, ipm, concurrency, windowMs, minRpm, burst) and shared state
           (effRpm, lastDecreaseAt, lastIncreaseAt, lastEdgeAt, lastGrantAt, paceAt, cooldownUntil,
           parkedUntil (-1 = indefinitely), winImages)
    win    sorted set: one member per granted request, "<leaseId>#<images>" scored by grant time
    leases sorted set: leaseId scored by expiry time

  Times are integer milliseconds. Requires clockMs from @pixelmill/redis-scripts/clock.lua only for callers.
]]

-- Sorted-set members outlive the TTLs we put on them only when the clock is injected and runs
-- slower than real time; the slack keeps such keys alive long enough for tests and simulations.
local TTL_SLACK_MS = 60000

local function imagesOf(member)
  return tonumber(string.match(member, '#(%d+)$')) or 1
end

-- Returns the resource as a table of numbers, or nil when it was never configured.
local function loadResource(cfgKey)
  local flat = redis.call('HGETALL', cfgKey)
  local r = {}
  for i = 1, #flat, 2 do
    r[flat[i]] = tonumber(flat[i + 1])
  end
  if r.windowMs == nil then
    return nil
  end
  r.winImages = r.winImages or 0
  return r
end

-- Drops requests that left the window and leases that expired (a crashed worker's lease frees
-- itself here), keeping the running image sum in step with the window.
local function purge(cfgKey, winKey, leaseKey, r, now)
  local edge = now - r.windowMs
  local gone = redis.call('ZRANGEBYSCORE', winKey, '-inf', edge)
  local images = r.winImages
  if #gone > 0 then
    for _, m in ipairs(gone) do
      images = images - imagesOf(m)
    end
    redis.call('ZREMRANGEBYSCORE', winKey, '-inf', edge)
  end
  r.inWindow = redis.call('ZCARD', winKey)
  -- An empty window means the sum is 0, also when the window key expired through its TTL.
  if r.inWindow == 0 then
    images = 0
  end
  if images ~= r.winImages then
    r.winImages = images
    redis.call('HSET', cfgKey, 'winImages', images)
  end
  -- A lease whose expiry equals now has had its full leaseMs: it is free.
  redis.call('ZREMRANGEBYSCORE', leaseKey, '-inf', now)
  r.inFlight = redis.call('ZCARD', leaseKey)
end

local function effectiveRpm(r)
  return r.effRpm or r.rpm
end

-- Evaluates every limit. Returns waitMs (0 = may grant), the reason of the longest wait, and the
-- headroom in [0, 1] (smallest free fraction over declared limits) used to rank keys.
-- The wait is the longest of all blocking waits, since all limits must pass at once.
local function evaluate(r, winKey, leaseKey, now, images, concurrencyPollMs, parkedPollMs)
  local wait, reason, headroom = 0, false, 1
  local function block(ms, why)
    if ms < 1 then ms = 1 end
    if ms > wait then wait, reason = ms, why end
  end

  if r.parkedUntil ~= nil then
    if r.parkedUntil < 0 then
      -- Parked indefinitely: only unpark ends it, so the caller polls.
      block(parkedPollMs, 'parked')
    elseif now < r.parkedUntil then
      block(r.parkedUntil - now, 'parked')
    end
  end

  if r.cooldownUntil ~= nil and now < r.cooldownUntil then
    block(r.cooldownUntil - now, 'cooldown')
  end

  if r.concurrency ~= nil then
    if r.inFlight >= r.concurrency then
      -- The lease that must end for a slot to open (more than one if concurrency was lowered).
      local i = r.inFlight - r.concurrency
      local nth = redis.call('ZRANGE', leaseKey, i, i, 'WITHSCORES')
      -- Leases are usually released long before they expire, so poll at least this often.
      block(math.min(tonumber(nth[2]) - now, concurrencyPollMs), 'concurrency')
    end
    headroom = math.min(headroom, (r.concurrency - r.inFlight) / r.concurrency)
  end

  local rpm = effectiveRpm(r)
  if rpm ~= nil then
    if r.inWindow >= rpm then
      -- Sliding window: the (inWindow - rpm + 1)-th oldest request must leave the window.
      local i = r.inWindow - rpm
      local nth = redis.call('ZRANGE', winKey, i, i, 'WITHSCORES')
      block(tonumber(nth[2]) + r.windowMs - now, 'rpm')
    end
    headroom = math.min(headroom, (rpm - r.inWindow) / rpm)
    if r.burst ~= nil and r.inWindow > 0 then
      -- Smoothing, paced from the grants (not from the window entries, which sent-2 moves to the
      -- send): grants keep to one per windowMs / (rpm * burst) on average, and a grant may come
      -- one spacing before its turn (paceAt), so a request held back by a busy slot is followed at
      -- once by the next instead of the spacing adding to the wait. At most two grants leave back to
      -- back; over any longer span the rate stays at most burst times the average.
      local spacing = r.windowMs / (rpm * r.burst)
      local due = r.paceAt
      if due == nil then
        local newestAt = r.lastGrantAt
        if newestAt == nil then
          newestAt = tonumber(redis.call('ZRANGE', winKey, -1, -1, 'WITHSCORES')[2])
        end
        due = newestAt + spacing
      end
      local early = due - spacing - now
      if early > 0 then
        block(math.ceil(early), 'rpm')
      end
    end
  end

  if r.ipm ~= nil then
    local excess = r.winImages + images - r.ipm
    if excess > 0 then
      -- Walk from the oldest request until enough images will have left the window.
      local entries = redis.call('ZRANGE', winKey, 0, -1, 'WITHSCORES')
      local freed = 0
      for i = 1, #entries, 2 do
        freed = freed + imagesOf(entries[i])
        if freed >= excess then
          block(tonumber(entries[i + 1]) + r.windowMs - now, 'ipm')
          break
        end
      end
    end
    headroom = math.min(headroom, (r.ipm - r.winImages) / r.ipm)
  end

  if headroom < 0 then headroom = 0 end
  return wait, reason, headroom
end

local function grant(cfgKey, winKey, leaseKey, r, now, leaseId, images, leaseMs)
  redis.call('ZADD', winKey, now, leaseId .. '#' .. images)
  redis.call('HINCRBY', cfgKey, 'winImages', images)
  redis.call('HSET', cfgKey, 'lastGrantAt', now)
  local rpm = effectiveRpm(r)
  if r.burst ~= nil and rpm ~= nil then
    -- The next grant's turn at the paced rate (see evaluate): one spacing after this grant's turn,
    -- or after now when the pace had fallen behind.
    local turn = r.paceAt
    if turn == nil or turn < now then
      turn = now
    end
    redis.call('HSET', cfgKey, 'paceAt', turn + r.windowMs / (rpm * r.burst))
  end
  -- Everything in the window is gone windowMs after the newest grant.
  redis.call('PEXPIRE', winKey, r.windowMs + TTL_SLACK_MS)
  redis.call('ZADD', leaseKey, now + leaseMs, leaseId)
  if redis.call('PTTL', leaseKey) < leaseMs + TTL_SLACK_MS then
    redis.call('PEXPIRE', leaseKey, leaseMs + TTL_SLACK_MS)
  end
end
