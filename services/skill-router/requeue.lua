-- Puts an offered interaction back at its old place (its score keeps the
-- original enqueue time) when the offer to ARGV[2] ended without an accept.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:offered
-- ARGV[1] id  ARGV[2] the agent it was offered to  ARGV[3] score
-- Returns 1 when re-queued, 0 when it was not offered to that agent.
local state = redis.call('HGET', KEYS[1], 'state')
local agent = redis.call('HGET', KEYS[1], 'agent')
if state ~= 'offered' or agent ~= ARGV[2] then
  return 0
end
redis.call('HSET', KEYS[1], 'state', 'waiting', 'agent', '', 'excluded', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
