--[[
  Included by every script that can leave a batch with nothing open (endItem-3, closeItem-3,
  gateItem-3, claimFinalize-1).
  A batch's finalize step is claimed once per round, by whoever sees nothing open (no item queued or
  running) first; retry re-opens the batch by deleting finalize_claimed.
]]
-- True when nothing is open and this call claimed the finalize (HSETNX finalize_claimed = now).
local function claimFinalizeIfDone(batchKey, now)
  local c = redis.call('HMGET', batchKey, 'queued', 'running')
  if tonumber(c[1] or '0') + tonumber(c[2] or '0') > 0 then return false end
  return redis.call('HSETNX', batchKey, 'finalize_claimed', now) == 1
end
