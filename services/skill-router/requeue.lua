-- An offer ended without an accept (the agent's offer timer fired, or the
-- sweeper found it long expired): the interaction goes back at its old place
-- (its score keeps the original enqueue time), unless other agents still
-- ring (ring_all).
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:offered
-- KEYS[4] {cc}:ring:<id>
-- ARGV[1] id  ARGV[2] the agent whose offer ended, "" for every one
-- ARGV[3] score  ARGV[4] the prefix of an agent's offers set (KEY_AOFF)
-- Returns 1 when re-queued, 2 when that agent stopped ringing while others
-- ring, 0 when it was not offered to that agent.
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' then
  return 0
end
local excluded = ARGV[2]
if redis.call('HGET', KEYS[1], 'ring') == '1' then
  if ARGV[2] ~= '' then
    if redis.call('SREM', KEYS[4], ARGV[2]) == 0 then
      return 0
    end
    redis.call('SREM', ARGV[4] .. ARGV[2], ARGV[1])
    if redis.call('SCARD', KEYS[4]) > 0 then
      return 2
    end
  end
  redis.call('DEL', KEYS[4])
else
  local agent = redis.call('HGET', KEYS[1], 'agent')
  if ARGV[2] ~= '' and agent ~= ARGV[2] then
    return 0
  end
  redis.call('SREM', ARGV[4] .. agent, ARGV[1])
  excluded = agent
end
redis.call('HSET', KEYS[1], 'state', 'waiting', 'agent', '', 'ring', '', 'excluded', excluded)
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
