-- The offered agent declines: the agent is free of the offer and, unless
-- other agents still ring (ring_all), the interaction goes back to its old
-- place, skipping that agent next time, in one step.
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:agent:<agent>  KEYS[3] {cc}:timers:offer
-- KEYS[4] {cc}:offered  KEYS[5] {cc}:tis:<day>:<agent>  KEYS[6] {cc}:wait:<queue>
-- KEYS[7] {cc}:holds:<agent> (used by accept.lua, which shares this layout)
-- KEYS[8] {cc}:ring:<id>  KEYS[9] {cc}:aoff:<agent>
-- ARGV[1] interaction id  ARGV[2] agent  ARGV[3] kind  ARGV[4] now ms  ARGV[5] score
-- Returns {the agent's new version, 1 when re-queued else 0}; {0} when not
-- offered to that agent; {-1} when the agent's offer already ended.
local ring = redis.call('HGET', KEYS[1], 'ring') == '1'
if redis.call('HGET', KEYS[1], 'state') ~= 'offered' or
   (ring and redis.call('SISMEMBER', KEYS[8], ARGV[2]) == 0) or
   (not ring and redis.call('HGET', KEYS[1], 'agent') ~= ARGV[2]) then
  return {0}
end
local offers = tonumber(redis.call('HGET', KEYS[2], 'offers') or '0')
if offers <= 0 then
  return {-1}
end
redis.call('HSET', KEYS[2], 'offers', offers - 1)
if offers == 1 and redis.call('HGET', KEYS[2], 'state') == 'offering' then
  local since = tonumber(redis.call('HGET', KEYS[2], 'since') or ARGV[4])
  redis.call('HINCRBY', KEYS[5], 'offering', math.max(0, tonumber(ARGV[4]) - since))
  redis.call('EXPIRE', KEYS[5], 3456000)
  redis.call('HSET', KEYS[2], 'state', 'waiting', 'since', ARGV[4])
end
redis.call('ZREM', KEYS[3], ARGV[2] .. '|' .. ARGV[1] .. '|' .. ARGV[3])
redis.call('SREM', KEYS[9], ARGV[1])
local version = redis.call('HINCRBY', KEYS[2], 'version', 1)
if ring then
  redis.call('SREM', KEYS[8], ARGV[2])
  if redis.call('SCARD', KEYS[8]) > 0 then
    return {version, 0}
  end
end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[1], 'state', 'waiting', 'agent', '', 'ring', '', 'excluded', ARGV[2])
redis.call('ZADD', KEYS[6], ARGV[5], ARGV[1])
return {version, 1}
