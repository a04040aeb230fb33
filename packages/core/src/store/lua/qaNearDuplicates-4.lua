--[[
  Looks up, then records, one output's perceptual hash in its batch's near-duplicate index
  (multi-index hashing: the 64-bit hash is cut into four 16-bit chunks, one sorted set per chunk
  position, score = the chunk's value). Lookup and insert are one step, so of two near-identical
  outputs stored at the same time the later one always sees the earlier.

  KEYS[1..4] the batch's sorted sets, chunk 0 (highest bits) to chunk 3
  ARGV[1] member "<16 hex digits>:<output index>:<custom_id>"
  ARGV[2] ttl in seconds, renewed on every insert
  ARGV[3] most members read from one bucket (a bucket that full holds the same picture many times)
  ARGV[4..7] the member's own chunk values
  ARGV[8] P, the probes per chunk; ARGV[9 ..] 4 * P chunk values to read, chunk 0's first

  Returns the distinct members found in the probed buckets (the caller measures the distances).
]]
local cap = tonumber(ARGV[3])
local per = tonumber(ARGV[8])
local seen = {}
local out = {}
for k = 1, 4 do
  for p = 1, per do
    local v = ARGV[8 + (k - 1) * per + p]
    local found = redis.call('ZRANGE', KEYS[k], v, v, 'BYSCORE', 'LIMIT', 0, cap)
    for _, m in ipairs(found) do
      if not seen[m] then
        seen[m] = true
        out[#out + 1] = m
      end
    end
  end
end
local ttl = tonumber(ARGV[2])
for k = 1, 4 do
  redis.call('ZADD', KEYS[k], tonumber(ARGV[3 + k]), ARGV[1])
  redis.call('EXPIRE', KEYS[k], ttl)
end
return out
