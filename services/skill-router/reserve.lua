-- Offers a waiting interaction to an agent: the interaction leaves its queue
-- and the agent takes the offer in one step, or nothing happens.
-- The router decided on the agent record at version ARGV[3]; if the record
-- moved since (or the interaction is no longer waiting), nothing is written.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:agent:<agent>
-- KEYS[4] {cc}:timers:offer  KEYS[5] {cc}:tis:<day of the agent's state>:<agent>
-- KEYS[6] {cc}:offered (interactions offered, by expiry: the sweeper's safety net)
-- ARGV[1] interaction id  ARGV[2] agent id  ARGV[3] agent version  ARGV[4] kind
-- ARGV[5] now ms  ARGV[6] offer expiry ms  ARGV[7] "offering" when the agent was
-- waiting, "" when busy with chats  ARGV[8] ms spent in waiting (time in state)
-- Returns the agent's new version; 0 when the agent moved; -1 when the
-- interaction is no longer waiting.
if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
  return -1
end
if tonumber(redis.call('HGET', KEYS[3], 'version') or '0') ~= tonumber(ARGV[3]) then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'offered', 'agent', ARGV[2], 'offered_at', ARGV[5],
           'expires_at', ARGV[6])
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HINCRBY', KEYS[3], 'offers', 1)
if ARGV[7] == 'offering' then
  redis.call('HSET', KEYS[3], 'state', 'offering', 'since', ARGV[5], 'due', '0')
  if tonumber(ARGV[8]) > 0 then
    redis.call('HINCRBY', KEYS[5], 'waiting', ARGV[8])
    redis.call('EXPIRE', KEYS[5], 3456000)
  end
end
redis.call('ZADD', KEYS[4], ARGV[6], ARGV[2] .. '|' .. ARGV[1] .. '|' .. ARGV[4])
redis.call('ZADD', KEYS[6], ARGV[6], ARGV[1])
return redis.call('HINCRBY', KEYS[3], 'version', 1)
