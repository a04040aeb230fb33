-- Includes one file twice and a shared include: the loader inlines each once.
--- @include "includes/answer.lua"
--- @include "includes/answer.lua"
--- @include "@pixelmill/redis-scripts/clock.lua"
return {answer(), clockMs('7')}
