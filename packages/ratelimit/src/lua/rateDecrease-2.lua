--[[
  AIMD decrease of the effective rpm after a 429.

  Three rules, in order:
  1. One burst, one signal: a 429 for a request granted before the last decrease is left alone (as
     TCP halves once per window, not once per lost packet).
  2. A lone disagreement at the window's edge is no lower limit: the request was sent when our
     window held (effective rpm - 1) others (the slot its oldest request freed), and the provider's
     hint is short (under 5 % of the window). The provider counts a request when it arrives, a
     little after we counted it, and saw the old one still inside its window: the rate is right.
     Only the time is noted; a second such 429 within one window means the limit really is lower.
  3. Otherwise the provider allows less than the effective rpm. The requests we sent in the window
     before the refused one (counted back from its grant) are what the provider had taken when it refused: its
     limit is about that many. The rate drops to that count (never to less than factor x the rate,
     never below minRpm), so a key whose real limit is below the declared one settles on it at
     once instead of halving and climbing back again and again.
  Without grantedAt only the plain multiplicative decrease applies.

  Input:
    KEYS[1] cfg hash
    KEYS[2] win zset
    ARGV[1] now in ms, or '' to use the Redis clock
    ARGV[2] factor in (0, 1)
    ARGV[3] grantedAt of the rate-limited request in ms, or ''
    ARGV[4] the provider's retry hint in ms, or ''

  Output:
    {1, effRpm}  decreased
    {0, effRpm}  skipped: the request predates the last decrease
    {2, effRpm}  skipped: a lone disagreement at the window's edge
    {-1}         no rpm declared (or resource not configured)
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local now = clockMs(ARGV[1])
local flat = redis.call('HMGET', KEYS[1], 'rpm', 'effRpm', 'minRpm', 'lastDecreaseAt', 'windowMs', 'lastEdgeAt')
local rpm, eff, minRpm = tonumber(flat[1]), tonumber(flat[2]), tonumber(flat[3])
local last, windowMs, lastEdge = tonumber(flat[4]), tonumber(flat[5]), tonumber(flat[6])
if rpm == nil then
  return {-1}
end
eff = eff or rpm
local grantedAt = tonumber(ARGV[3])
if grantedAt ~= nil and last ~= nil and grantedAt <= last then
  return {0, eff}
end

local lowered = math.max(minRpm or 1, math.floor(eff * tonumber(ARGV[2])))
if grantedAt ~= nil and windowMs ~= nil then
  -- Counted over the window that ended at the refused request's grant (about when it was sent and
  -- reached the provider), not the one ending now: by the time its 429 arrives (a call later, up to a
  -- third of a short window), the oldest of those requests have left a window counted from now, and a
  -- lone edge disagreement would read as a lower limit.
  local before = redis.call('ZCOUNT', KEYS[2], '(' .. (grantedAt - windowMs), '(' .. grantedAt)
  local hint = tonumber(ARGV[4])
  if before >= eff - 1 and (hint == nil or hint < windowMs / 20) then
    if lastEdge == nil or now - lastEdge > windowMs then
      redis.call('HSET', KEYS[1], 'lastEdgeAt', now)
      return {2, eff}
    end
  end
  lowered = math.max(lowered, math.min(eff - 1, before))
end
redis.call('HSET', KEYS[1], 'effRpm', lowered, 'lastDecreaseAt', now)
return {1, lowered}
