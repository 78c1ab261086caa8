--#include agent_cas
-- Offers waiting interactions, one or several in one call (the router puts
-- the decisions made at the same moment in one batch). Each interaction
-- leaves its queue and its chosen agents take the offer in one step, or
-- nothing happens to it. One agent per interaction, or for ring_all (calls)
-- several: each rings and the first to accept wins (accept.lua).
-- A new interaction is stored by the same call (its arrival decision made
-- on the record as it is about to be stored): once, a retry with the same id
-- changes nothing (chat-gateway and call-router retry); its record, its
-- place in the queue, its first trace steps and its max_wait_s deadline,
-- then the offer if there is one.
-- The router decided each agent's offer transition (common/cc_agent.c) on its
-- record at some version; agent_cas applies it only at that version, so an
-- agent whose record moved since (another pair of the same batch offered it
-- first, another replica, the agent itself) is left out: the router tries the
-- next candidate. An interaction no longer waiting (offered by another pair
-- or replica, abandoned) is left alone: never two offers for one interaction.
-- KEYS[1] {cc}:timers:offer  KEYS[2] {cc}:offered (interactions offered, by
-- expiry: the sweeper's safety net)  KEYS[3] {cc}:timers:state  KEYS[4] {cc}:deadline
-- then per interaction: {cc}:ix:<id>, {cc}:wait:<queue>, {cc}:ring:<id> (the
-- agents ringing, for ring_all), {cc}:trace:<id>, and per agent of it
-- {cc}:agent:<a>, {cc}:tis:<day of its state>:<a>, {cc}:holds:<a>, {cc}:aoff:<a>
-- ARGV[1] time-in-state TTL s  ARGV[2] trace TTL s  ARGV[3] n, the interactions
-- then per interaction: id, now ms, "ring" or "", m (its agents), s (0, or
-- the arguments storing it new: score, deadline ms or "", k, k packed trace
-- steps, the record's field, value pairs), those s arguments, and per agent
-- the 30 arguments of agent_cas_at (its offer sets the offer timer and lists
-- the offer), the offer expiry ms, the packed trace step
-- Returns one element per interaction, in order: {agent, new version, ...}
-- of the agents offered (empty: every one moved, or none was given), -1 when
-- the interaction is no longer waiting, -3 when the new one existed already
-- (nothing done).
local PER_AGENT = 32
local shared = {timers = KEYS[3], offer_timers = KEYS[1], tis_ttl = ARGV[1]}

local function reserve(kix, kwait, kring, ktrace, id, now, ring, m, ki, ai)
  if not redis.call('ZSCORE', kwait, id) then
    return -1
  end
  local offered, ids, last = {}, {}, 0
  for i = 0, m - 1 do
    local at = ai + PER_AGENT * i
    local nv = agent_cas_at(ki + 4 * i, at, shared)
    if nv > 0 then
      offered[#offered + 1] = ARGV[at]
      offered[#offered + 1] = nv
      ids[#ids + 1] = ARGV[at]
      last = math.max(last, tonumber(ARGV[at + 30]))
      redis.call('RPUSH', ktrace, ARGV[at + 31])
    end
  end
  if #ids == 0 then
    return offered
  end
  redis.call('ZREM', kwait, id)
  redis.call('HSET', kix, 'state', 'offered', 'agent', ring and '' or ids[1],
             'ring', ring and '1' or '', 'offered_at', now, 'expires_at', last)
  redis.call('HINCRBY', kix, 'attempts', 1)
  if ring then
    redis.call('SADD', kring, unpack(ids))
  end
  redis.call('ZADD', KEYS[2], last, id)
  redis.call('EXPIRE', ktrace, ARGV[2])
  return offered
end

-- Stores new interaction `id` from ARGV[a .. a+s-1]; false when it exists.
local function store(kix, kwait, ktrace, id, a, s)
  if redis.call('EXISTS', kix) == 1 then
    return false
  end
  local nsteps = tonumber(ARGV[a + 2])
  local fields = {}
  for i = a + 3 + nsteps, a + s - 1 do
    fields[#fields + 1] = ARGV[i]
  end
  redis.call('HSET', kix, unpack(fields))
  redis.call('ZADD', kwait, ARGV[a], id)
  for i = a + 3, a + 2 + nsteps do
    redis.call('RPUSH', ktrace, ARGV[i])
  end
  if nsteps > 0 then
    redis.call('EXPIRE', ktrace, ARGV[2])
  end
  if ARGV[a + 1] ~= '' then -- the sweep ends it if still waiting then
    redis.call('ZADD', KEYS[4], ARGV[a + 1], id)
  end
  return true
end

local out, k, a = {}, 5, 4
for n = 1, tonumber(ARGV[3]) do
  local id, m, s = ARGV[a], tonumber(ARGV[a + 3]), tonumber(ARGV[a + 4])
  if s > 0 and not store(KEYS[k], KEYS[k + 1], KEYS[k + 3], id, a + 5, s) then
    out[n] = -3
  else
    out[n] = reserve(KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], id, ARGV[a + 1],
                     ARGV[a + 2] == 'ring', m, k + 4, a + 5 + s)
  end
  k, a = k + 4 + 4 * m, a + 5 + s + PER_AGENT * m
end
return out
