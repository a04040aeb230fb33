--[[
  Claims the batch's finalize step when nothing is open, for callers that end no item themselves
  (a retry that found nothing to retry after re-opening the batch).

  KEYS[1] batch hash
  ARGV[1] now (RFC 3339)

  Returns 1 when this call claimed it.
]]
--- @include "includes/finalize.lua"

return claimFinalizeIfDone(KEYS[1], ARGV[1]) and 1 or 0
