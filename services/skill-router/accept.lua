--#include agent_cas
-- The offered agent accepts: the interaction is connected and the agent
-- holds it, in one step. The router decided the agent's accept transition
-- (common/cc_agent.c) on its record at some version; agent_cas applies it
-- only at that version (else {-2}: decide again). For ring_all the other
-- ringing agents are returned: the router withdraws their offers.
-- KEYS as decline.lua: KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:timers:offer
-- KEYS[3] {cc}:offered  KEYS[4] {cc}:ring:<id>  KEYS[5] {cc}:timers:state
-- KEYS[6] {cc}:wait:<queue> (unused here)
-- KEYS[7..10] the agent's {cc}:agent, {cc}:tis, {cc}:holds, {cc}:aoff
-- ARGV[1] interaction id  ARGV[2] agent  ARGV[3] time-in-state TTL s
-- ARGV[4] score (unused here)  ARGV[5..34] agent_cas_at's (hold "+id",
-- offer "-id|kind")
-- Returns {the agent's new version, the agents who stopped ringing...};
-- {0} when the interaction is not offered to that agent; {-1} when the
-- agent's offer ended already (its timer is gone) or the interaction is held
-- already; {-2} when the agent's record moved.
local ix = redis.call('HMGET', KEYS[1], 'state', 'agent', 'ring')
local state, agent, ring = ix[1], ix[2], ix[3] == '1'
if state ~= 'offered' or (ring and redis.call('SISMEMBER', KEYS[4], ARGV[2]) == 0) or
   (not ring and agent ~= ARGV[2]) then
  return {0}
end
local nv = agent_cas_at(7, 5, {timers = KEYS[5], offer_timers = KEYS[2], tis_ttl = ARGV[3]})
if nv == 0 then
  return {-2}
elseif nv < 0 then
  return {-1}
end
local stopped = {}
if ring then
  for _, other in ipairs(redis.call('SMEMBERS', KEYS[4])) do
    if other ~= ARGV[2] then
      stopped[#stopped + 1] = other
    end
  end
  redis.call('DEL', KEYS[4])
end
redis.call('HSET', KEYS[1], 'state', 'connected', 'agent', ARGV[2], 'ring', '')
redis.call('ZREM', KEYS[3], ARGV[1])
return {nv, unpack(stopped)}
