-- Puts a new interaction in its queue, once: a retry with the same id changes
-- nothing (chat-gateway and call-router retry). Its first trace steps are
-- written in the same step.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:trace:<id>
-- ARGV[1] id  ARGV[2] score  ARGV[3] trace TTL s  ARGV[4] n, the trace steps
-- ARGV[5 .. 4+n] packed TraceSteps  then field, value pairs of the record
-- Returns 1 when queued now, 0 when it existed.
if redis.call('EXISTS', KEYS[1]) == 1 then
  return 0
end
local n = tonumber(ARGV[4])
local fields = {}
for i = 5 + n, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
for i = 5, 4 + n do
  redis.call('RPUSH', KEYS[3], ARGV[i])
end
if n > 0 then
  redis.call('EXPIRE', KEYS[3], ARGV[3])
end
return 1
