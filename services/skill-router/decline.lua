--#include agent_cas
-- The offered agent declines: the agent is free of the offer and, unless
-- other agents still ring (ring_all), the interaction goes back to its old
-- place, skipping that agent next time, in one step. The router decided the
-- agent's decline transition (common/cc_agent.c); agent_cas applies it only
-- at the version it was decided on (else {-2}: decide again).
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:timers:offer  KEYS[3] {cc}:offered
-- KEYS[4] {cc}:ring:<id>  KEYS[5] {cc}:timers:state  KEYS[6] {cc}:wait:<queue>
-- KEYS[7..10] the agent's {cc}:agent, {cc}:tis, {cc}:holds, {cc}:aoff
-- ARGV[1] interaction id  ARGV[2] agent  ARGV[3] time-in-state TTL s  ARGV[4] score
-- ARGV[5..34] agent_cas_at's (offer "-id|kind")
-- Returns {the agent's new version, 1 when re-queued else 0}; {0} when not
-- offered to that agent; {-1} when the agent's offer ended already (its
-- timer is gone); {-2} when the agent's record moved.
local ring = redis.call('HGET', KEYS[1], 'ring') == '1'
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' or
   (ring and redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 0) or
   (not ring and redis.call('HGET', KEYS[1], 'agent') ~= ARGV[2]) then
  return {0}
end
local nv = agent_cas_at(7, 5, {timers = KEYS[5], offer_timers = KEYS[2], tis_ttl = ARGV[3]})
if nv == 0 then
  return {-2}
elseif nv < 0 then
  return {-1}
end
if ring then
  redis.call('SREM', KEYS[4], ARGV[2])
  if redis.call('SCARD', KEYS[4]) > 0 then
    return {nv, 0}
  end
end
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'waiting', 'agent', '', 'ring', '', 'excluded', ARGV[2])
redis.call('ZADD', KEYS[6], ARGV[4], ARGV[1])
return {nv, 1}
