-- Offers a waiting interaction: it leaves its queue and the chosen agents
-- take the offer in one step, or nothing happens. One agent, or for ring_all
-- (calls) several: each rings and the first to accept wins (accept.lua).
-- The router chose each agent from its record at some version; an agent
-- whose record moved since is left out.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:timers:offer
-- KEYS[4] {cc}:offered (interactions offered, by expiry: the sweeper's safety net)
-- KEYS[5] {cc}:ring:<id> (the agents ringing, for ring_all)
-- then per agent: {cc}:agent:<a>, {cc}:tis:<day of its state>:<a>, {cc}:aoff:<a>
-- ARGV[1] interaction id  ARGV[2] kind  ARGV[3] now ms  ARGV[4] "ring" or ""
-- then per agent: id, version read, offer expiry ms, "offering" when it was
-- waiting ("" when busy with chats), ms spent in waiting (time in state)
-- Returns the ids of the agents offered (empty: every one moved); -1 when the
-- interaction is no longer waiting.
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return -1
end
local offered, last = {}, 0
for i = 0, (#KEYS - 5) / 3 - 1 do
  local kagent, ktis, kaoff = KEYS[6 + 3 * i], KEYS[7 + 3 * i], KEYS[8 + 3 * i]
  local a = 5 + 5 * i
  local agent, expires = ARGV[a], tonumber(ARGV[a + 2])
  if tonumber(redis.call('HGET', kagent, 'version') or '0') == tonumber(ARGV[a + 1]) then
    redis.call('HINCRBY', kagent, 'offers', 1)
    if ARGV[a + 3] == 'offering' then
      redis.call('HSET', kagent, 'state', 'offering', 'since', ARGV[3], 'due', '0')
      if tonumber(ARGV[a + 4]) > 0 then
        redis.call('HINCRBY', ktis, 'waiting', ARGV[a + 4])
        redis.call('EXPIRE', ktis, 3456000)
      end
    end
    redis.call('HINCRBY', kagent, 'version', 1)
    redis.call('ZADD', KEYS[3], expires, agent .. '|' .. ARGV[1] .. '|' .. ARGV[2])
    redis.call('SADD', kaoff, ARGV[1])
    offered[#offered + 1] = agent
    last = math.max(last, expires)
  end
end
if #offered == 0 then
  return offered
end
local ring = ARGV[4] == 'ring'
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'offered', 'agent', ring and '' or offered[1],
           'ring', ring and '1' or '', 'offered_at', ARGV[3], 'expires_at', last)
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
if ring then
  redis.call('SADD', KEYS[5], unpack(offered))
end
redis.call('ZADD', KEYS[4], last, ARGV[1])
return offered
