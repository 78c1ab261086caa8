-- rate_limit.lua - one event against every limiter in KEYS at once (a generic
-- cell rate algorithm: each key holds the theoretical arrival time, ms).
-- ARGV[2i-1], ARGV[2i]: KEYS[i]'s interval between two events (ms) and its
-- burst (events that may come at once). The event is counted by every
-- limiter only when all of them allow it.
-- Returns {0, 0} when allowed, else {ms to wait, index of the limiter that
-- asks the longest wait}.
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local next_tat, wait, which = {}, 0, 0
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or now)
  if tat < now then tat = now end
  local new = tat + interval
  local too_early = new - burst * interval - now
  if too_early > wait then wait, which = too_early, i end
  next_tat[i] = new
end
if wait > 0 then return {wait, which} end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, next_tat[i], 'PX', next_tat[i] - now + 1000)
end
return {0, 0}
