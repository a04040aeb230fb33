--[[
  Puts one ended item back to queued for another round (see includes/retry.lua).

  KEYS[1] item hash
  KEYS[2] batch hash
  ARGV[1] statuses that may be retried, comma-separated (e.g. "failed")

  Returns the item's new retry round (>= 1), or 0 when the item was not in one of those statuses.
]]
--- @include "includes/retry.lua"

return retryItem(KEYS[1], KEYS[2], statusSet(ARGV[1]))
