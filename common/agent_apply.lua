--#include agent_cas
-- Applies one decided transition to an agent record if nobody changed it
-- since it was read (agent_cas above), and returns the new record.
-- KEYS[1] <tag>:timers:state  KEYS[2] <tag>:timers:offer
-- KEYS[3..6] <tag>:agent:<id>, <tag>:tis:<day>:<id>, <tag>:holds:<id>, <tag>:aoff:<id>
-- ARGV[1] time-in-state TTL s, ARGV[2..31] as agent_cas_at
-- Returns {new version, the record's field, value pairs}; {0} when the
-- version moved; {-1} when the hold was refused (a retry).
local nv = agent_cas_at(3, 2, {timers = KEYS[1], offer_timers = KEYS[2], tis_ttl = ARGV[1]})
if nv <= 0 then
  return {nv}
end
return {nv, redis.call('HGETALL', KEYS[3])}
