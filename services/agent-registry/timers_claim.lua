-- Claims due timers for this replica: each due member gets a short lease
-- (its score moves to now + lease) so that no other replica takes it; the
-- claimer removes it when done (timers_done.lua). A claimer that dies lets
-- the lease run out and another replica claims the member again.
-- KEYS[1] the timer sorted set  ARGV[1] now ms  ARGV[2] lease ms  ARGV[3] at most
-- Returns {member, lease score, member, lease score, ...}.
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local lease = tonumber(ARGV[1]) + tonumber(ARGV[2])
local out = {}
for _, m in ipairs(due) do
  redis.call('ZADD', KEYS[1], 'XX', lease, m)
  out[#out + 1] = m
  out[#out + 1] = tostring(lease)
end
return out
