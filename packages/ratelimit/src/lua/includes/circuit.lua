--[[
  Included by the circuit* scripts. A breaker is one hash:
    failures    consecutive failures while closed
    openUntil   set when the breaker opened; open before it, half-open from it on
    probeUntil  while half-open: the single probe's lease, so a probe that never reports back
                (crashed worker) lets another probe through after it
  No hash (or no openUntil) means closed.
]]
local function circuitStateOf(openUntil, now)
  if openUntil == nil then
    return 'closed'
  end
  if now < openUntil then
    return 'open'
  end
  return 'half-open'
end
