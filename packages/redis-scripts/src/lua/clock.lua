--[[
  Included (as "@pixelmill/redis-scripts/clock.lua") by every script of any package that needs "now".
  The caller may inject a clock (tests, simulations); otherwise Redis's own clock is used so that
  worker processes on different hosts, whose clocks drift, still agree on one timeline.
]]
local function clockMs(injected)
  if injected ~= nil and injected ~= '' then
    return tonumber(injected)
  end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
