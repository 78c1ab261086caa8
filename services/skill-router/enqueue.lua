-- Puts a new interaction in its queue, once: a retry with the same id changes
-- nothing (chat-gateway and call-router retry).
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>
-- ARGV[1] id  ARGV[2] score  ARGV[3..] field, value pairs
-- Returns 1 when queued now, 0 when it existed.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
