-- Removes a claimed timer unless it was set again meanwhile (its score is no
-- longer the lease the claimer got).
-- KEYS[1] the timer sorted set  ARGV[1] member  ARGV[2] lease score
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
