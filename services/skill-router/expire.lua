-- Ends a waiting interaction whose queue's max_wait_s has passed.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:deadline
-- ARGV[1] id
-- Returns 1 when it ended now; 0 when it is no longer waiting (connected or
-- ended: its deadline is dropped) or is being offered (kept: an offer that
-- ends without an accept puts it back, and the next sweep ends it).
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'waiting' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('HSET', KEYS[1], 'state', 'ended', 'end_reason', 'timed_out')
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 1
end
if state ~= 'offered' then
  redis.call('ZREM', KEYS[3], ARGV[1])
end
return 0
