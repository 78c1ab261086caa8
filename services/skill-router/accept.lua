-- The offered agent accepts: the interaction is connected and the agent
-- holds it, in one step.
-- KEYS and ARGV as decline.lua (the queue, KEYS[6], and the score, ARGV[5],
-- are not used here):
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:agent:<agent>  KEYS[3] {cc}:timers:offer
-- KEYS[4] {cc}:offered  KEYS[5] {cc}:tis:<day>:<agent>  KEYS[7] {cc}:holds:<agent>
-- ARGV[1] interaction id  ARGV[2] agent  ARGV[3] kind  ARGV[4] now ms
-- Returns the agent's new version; 0 when the interaction is not offered to
-- that agent; -1 when the agent's offer already ended (timed out).
local state, agent = redis.call('HGET', KEYS[1], 'state'), redis.call('HGET', KEYS[1], 'agent')
if state == 'connected' and agent == ARGV[2] then
  return tonumber(redis.call('HGET', KEYS[2], 'version') or '1') -- a retry: accepted already
end
if state ~= 'offered' or agent ~= ARGV[2] then
  return 0
end
if tonumber(redis.call('HGET', KEYS[2], 'offers') or '0') <= 0 then
  return -1
end
redis.call('HSET', KEYS[1], 'state', 'connected')
redis.call('HINCRBY', KEYS[2], 'offers', -1)
redis.call('HINCRBY', KEYS[2], ARGV[3] == 'call' and 'calls' or 'chats', 1)
redis.call('HSET', KEYS[2], 'misses', '0')
redis.call('SADD', KEYS[7], ARGV[1])
if redis.call('HGET', KEYS[2], 'state') ~= 'busy' then
  local since = tonumber(redis.call('HGET', KEYS[2], 'since') or ARGV[4])
  redis.call('HINCRBY', KEYS[5], 'offering', math.max(0, tonumber(ARGV[4]) - since))
  redis.call('EXPIRE', KEYS[5], 3456000)
  redis.call('HSET', KEYS[2], 'state', 'busy', 'since', ARGV[4])
end
redis.call('ZREM', KEYS[3], ARGV[2] .. '|' .. ARGV[1] .. '|' .. ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[1])
return redis.call('HINCRBY', KEYS[2], 'version', 1)
