-- Ends a connected interaction once agent-registry has released its agent:
-- the state, the reason and the trace step in one step, so that a retry
-- after any failure finds it either still connected (and ends it) or ended
-- with its step, never ended without one.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:trace:<id>
-- ARGV[1] end reason  ARGV[2] the packed trace step  ARGV[3] trace TTL (s)
-- Returns 1 when it ended it, 0 when it was not connected (ended already).
if redis.call('HGET', KEYS[1], 'state') ~= 'connected' then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'ended', 'end_reason', ARGV[1])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
