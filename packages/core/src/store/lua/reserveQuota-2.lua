--[[
  Checks a tenant's quotas and reserves them for one batch, in one step, so that concurrent
  submissions of the same tenant never pass together when only one fits (api.md "Tenant quotas").

  What counts is derived from the batches themselves, not from counters kept elsewhere: every batch
  the tenant has in its open hash is read (they are few: the open ones) and entries of batches that
  ended are dropped on the way.
    - an unpublished batch (still being ingested) counts as open, with the items it reserved; one
      reserved more than ARGV[8] ms ago belongs to an ingest that died and is dropped
    - a published batch counts its queued + running items; it is open until it completes or a cancel
      is requested (a cancelled batch's running items still count until they end)
  The items-per-minute window is a sliding log: one member "<batch id>:<items>" per reservation,
  scored by its time.

  KEYS[1] the tenant's open hash (batch id -> "<items reserved>:<reserved at ms>")
  KEYS[2] the tenant's submission window (sorted set)
  ARGV[1] batch key prefix ("<prefix>:batch:")
  ARGV[2] batch id
  ARGV[3] items to reserve (0 while a streamed batch is read: then one more item must fit)
  ARGV[4] max open batches (0 = unlimited)
  ARGV[5] max queued items (0 = unlimited)
  ARGV[6] items per window (0 = unlimited)
  ARGV[7] window in ms
  ARGV[8] age in ms past which an unpublished batch's reservation is abandoned

  Returns {quota, in_use, retry_after_ms}: quota 'ok' when reserved (a second call for the same batch
  updates its reservation), else the name of the quota that refused it.
]]
--- @include "@pixelmill/redis-scripts/clock.lua"

local now = clockMs()
local id = ARGV[2]
local n = tonumber(ARGV[3])
local maxOpen, maxItems, perWindow = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local windowMs, staleMs = tonumber(ARGV[7]), tonumber(ARGV[8])

local function parse(v)
  local sep = string.find(v, ':', 1, true)
  return tonumber(string.sub(v, 1, sep - 1)), tonumber(string.sub(v, sep + 1))
end

local mine = redis.call('HGET', KEYS[1], id)
local mineItems = mine and parse(mine) or nil
-- The same batch again with the same count (a JSON batch, counted when it began): nothing changes.
if mineItems ~= nil and mineItems == n and n > 0 then return {'ok', 0, 0} end

local open, items = 0, 0
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  local bid = entries[i]
  if bid ~= id then
    local reserved, at = parse(entries[i + 1])
    local b = redis.call('HMGET', ARGV[1] .. bid, 'visible', 'queued', 'running', 'completed_at', 'cancel_requested')
    if not b[1] or b[4] then
      redis.call('HDEL', KEYS[1], bid)
    elseif b[1] ~= '1' then
      if now - at > staleMs then
        redis.call('HDEL', KEYS[1], bid)
      else
        open = open + 1
        items = items + reserved
      end
    else
      local live = tonumber(b[2] or '0') + tonumber(b[3] or '0')
      if b[5] then
        if live <= 0 then redis.call('HDEL', KEYS[1], bid) else items = items + live end
      else
        open = open + 1
        items = items + live
      end
    end
  end
end

if maxOpen > 0 and mine == false and open + 1 > maxOpen then return {'max_open_batches', open, 0} end
local want = math.max(n, 1)
if maxItems > 0 and items + want > maxItems then return {'max_queued_items', items, 0} end

local own = mine and (id .. ':' .. mineItems) or nil
if perWindow > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - windowMs)
  local rows = redis.call('ZRANGE', KEYS[2], 0, -1, 'WITHSCORES')
  local used = 0
  for i = 1, #rows, 2 do
    if rows[i] ~= own then used = used + tonumber(string.match(rows[i], ':(%d+)$')) end
  end
  if used + want > perWindow then
    -- Oldest first: the wait ends when enough of the window has slid past.
    local need, freed, retry = used + want - perWindow, 0, windowMs
    for i = 1, #rows, 2 do
      if rows[i] ~= own then
        freed = freed + tonumber(string.match(rows[i], ':(%d+)$'))
        if freed >= need then
          retry = tonumber(rows[i + 1]) + windowMs - now
          break
        end
      end
    end
    return {'items_per_minute', used, math.max(retry, 1)}
  end
end

redis.call('HSET', KEYS[1], id, n .. ':' .. now)
if own then redis.call('ZREM', KEYS[2], own) end
if perWindow > 0 and n > 0 then
  redis.call('ZADD', KEYS[2], now, id .. ':' .. n)
  redis.call('PEXPIRE', KEYS[2], windowMs)
end
return {'ok', 0, 0}
