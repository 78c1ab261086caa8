--#include agent_cas
-- Offers a waiting interaction: it leaves its queue and the chosen agents
-- take the offer in one step, or nothing happens. One agent, or for ring_all
-- (calls) several: each rings and the first to accept wins (accept.lua).
-- The router decided each agent's offer transition (common/cc_agent.c) on its
-- record at some version; agent_cas applies it only at that version, so an
-- agent whose record moved since is left out.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:timers:offer
-- KEYS[4] {cc}:offered (interactions offered, by expiry: the sweeper's safety net)
-- KEYS[5] {cc}:ring:<id> (the agents ringing, for ring_all)  KEYS[6] {cc}:timers:state
-- KEYS[7] {cc}:trace:<id>
-- then per agent: {cc}:agent:<a>, {cc}:tis:<day of its state>:<a>, {cc}:holds:<a>, {cc}:aoff:<a>
-- ARGV[1] interaction id  ARGV[2] now ms  ARGV[3] "ring" or ""  ARGV[4] time-in-state TTL s
-- ARGV[5] trace TTL s  ARGV[6] n, the agents
-- then per agent: the 30 arguments of agent_cas_at (its offer sets the offer
-- timer and lists the offer), the offer expiry ms, the packed trace step
-- Returns {agent, new version, ...} of the agents offered (empty: every one
-- moved); -1 when the interaction is no longer waiting.
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return -1
end
local shared = {timers = KEYS[6], offer_timers = KEYS[3], tis_ttl = ARGV[4]}
local offered, ids, last = {}, {}, 0
for i = 0, tonumber(ARGV[6]) - 1 do
  local ai = 7 + 32 * i
  local nv = agent_cas_at(8 + 4 * i, ai, shared)
  if nv > 0 then
    offered[#offered + 1] = ARGV[ai]
    offered[#offered + 1] = nv
    ids[#ids + 1] = ARGV[ai]
    last = math.max(last, tonumber(ARGV[ai + 30]))
    redis.call('RPUSH', KEYS[7], ARGV[ai + 31])
  end
end
if #ids == 0 then
  return offered
end
local ring = ARGV[3] == 'ring'
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'offered', 'agent', ring and '' or ids[1],
           'ring', ring and '1' or '', 'offered_at', ARGV[2], 'expires_at', last)
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if ring then
  redis.call('SADD', KEYS[5], unpack(ids))
end
redis.call('ZADD', KEYS[4], last, ARGV[1])
redis.call('EXPIRE', KEYS[7], ARGV[5])
return offered
