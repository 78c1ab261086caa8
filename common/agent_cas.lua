-- agent_cas.lua - the one compare-and-set of an agent record, shared by
-- every script that changes an agent (agent_apply.lua, and skill-router's
-- reserve.lua, accept.lua, decline.lua, which start with "--#include
-- agent_cas" and get this text prepended at build time). The transition is
-- decided in C (common/cc_agent.c); this only writes it, atomically, when the
-- record is still at the version it was decided on.
-- k: agent <tag>:agent:<id>, timers <tag>:timers:state, tis <tag>:tis:<day>:<id>,
--    holds <tag>:holds:<id>, offer_timers <tag>:timers:offer, aoff <tag>:aoff:<id>
-- a: id, version (expected), due (state timer ms, '0' none), tis_field ('' none),
--    spent (ms in the state that ends), tis_ttl (s), hold ('+ix', '-ix' or ''),
--    offer ('+ix|kind|expires' sets the offer timer and lists the offer,
--    '-ix|kind' drops both, '' nothing), fields (a list: name, value, ...)
-- Returns the new version; 0 when the version moved (read again, decide
-- again); -1 when the interaction to end is no longer held (ended already),
-- the one to hold is held already (a retry), or the offer to end has no
-- timer any more (it ended already: a timeout fired, or it was answered).
local function agent_cas(k, a)
  local ver = tonumber(redis.call('HGET', k.agent, 'version') or '0')
  if ver ~= tonumber(a.version) then
    return 0
  end
  local offer, member, ix, expires = a.offer or '', nil, nil, nil
  if offer ~= '' then
    local kind
    ix, kind, expires = offer:sub(2):match('^([^|]+)|([^|]+)|?(.*)$')
    member = a.id .. '|' .. ix .. '|' .. kind
    -- an offer ends (answered, declined, withdrawn, timed out) only while
    -- its timer is set: a timer already gone means that offer ended already
    if offer:sub(1, 1) == '-' and not redis.call('ZSCORE', k.offer_timers, member) then
      return -1
    end
  end
  local hold = a.hold or ''
  if hold:sub(1, 1) == '-' then
    if redis.call('SREM', k.holds, hold:sub(2)) == 0 then
      return -1
    end
  elseif hold:sub(1, 1) == '+' then
    if redis.call('SADD', k.holds, hold:sub(2)) == 0 then
      return -1
    end
  end
  local nv = ver + 1
  local f = a.fields
  f[#f + 1] = 'version'
  f[#f + 1] = tostring(nv)
  redis.call('HSET', k.agent, unpack(f))
  if a.due ~= '0' then
    redis.call('ZADD', k.timers, a.due, a.id)
  elseif a.timed == '1' then
    redis.call('ZREM', k.timers, a.id)
  end
  if a.tis_field ~= '' and tonumber(a.spent) > 0 then
    redis.call('HINCRBY', k.tis, a.tis_field, a.spent)
    redis.call('EXPIRE', k.tis, a.tis_ttl)
  end
  if offer:sub(1, 1) == '+' then
    redis.call('ZADD', k.offer_timers, expires, member)
    redis.call('SADD', k.aoff, ix)
  elseif member then
    redis.call('ZREM', k.offer_timers, member)
    redis.call('SREM', k.aoff, ix)
  end
  return nv
end

-- One agent's compare-and-set from the layout cc_agent_store.h prepares:
-- KEYS[ki .. ki+3] agent, tis, holds, aoff; ARGV[ai .. ai+7] id, version, due,
-- timed ('1': the record had a state timer), tis_field, spent, hold, offer;
-- ARGV[ai+8 .. ai+29] the record's field, value pairs. `shared` holds the
-- keys every agent shares (timers, offer_timers) and tis_ttl.
local function agent_cas_at(ki, ai, shared)
  local f = {}
  for i = ai + 8, ai + 29 do
    f[#f + 1] = ARGV[i]
  end
  return agent_cas({agent = KEYS[ki], tis = KEYS[ki + 1], holds = KEYS[ki + 2], aoff = KEYS[ki + 3],
                    timers = shared.timers, offer_timers = shared.offer_timers},
                   {id = ARGV[ai], version = ARGV[ai + 1], due = ARGV[ai + 2], timed = ARGV[ai + 3],
                    tis_field = ARGV[ai + 4], spent = ARGV[ai + 5], hold = ARGV[ai + 6],
                    offer = ARGV[ai + 7], tis_ttl = shared.tis_ttl, fields = f})
end
