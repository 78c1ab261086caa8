-- The offered agent accepts: the interaction is connected and the agent
-- holds it, in one step; for ring_all the other ringing agents stop ringing
-- in the same step.
-- KEYS as decline.lua: KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:agent:<agent>
-- KEYS[3] {cc}:timers:offer  KEYS[4] {cc}:offered  KEYS[5] {cc}:tis:<day>:<agent>
-- KEYS[6] {cc}:wait:<queue> (unused here)  KEYS[7] {cc}:holds:<agent>
-- KEYS[8] {cc}:ring:<id>  KEYS[9] {cc}:aoff:<agent>
-- ARGV[1] interaction id  ARGV[2] agent  ARGV[3] kind  ARGV[4] now ms
-- ARGV[5] score (unused here)  ARGV[6] today (UTC, for the others' time in state)
-- The other ringing agents' keys are made here from their ids: they are only
-- known inside the script, and share the {cc} hash slot with the rest.
-- Returns {the agent's new version, the agents who stopped ringing...};
-- {0} when the interaction is not offered to that agent; {-1} when the
-- agent's offer already ended (timed out).
local state, agent = redis.call('HGET', KEYS[1], 'state'), redis.call('HGET', KEYS[1], 'agent')
local ring = redis.call('HGET', KEYS[1], 'ring') == '1'
if state == 'connected' and agent == ARGV[2] then
  return {tonumber(redis.call('HGET', KEYS[2], 'version') or '1')} -- a retry: accepted already
end
if state ~= 'offered' or (ring and redis.call('SISMEMBER', KEYS[8], ARGV[2]) == 0) or
   (not ring and agent ~= ARGV[2]) then
  return {0}
end
if tonumber(redis.call('HGET', KEYS[2], 'offers') or '0') <= 0 then
  return {-1}
end

-- The agent loses one ringing offer: back to waiting when it was the last.
local function release(kagent, ktis, kaoff, who)
  local offers = tonumber(redis.call('HGET', kagent, 'offers') or '0')
  if offers <= 0 then
    return false
  end
  redis.call('HSET', kagent, 'offers', offers - 1)
  if offers == 1 and redis.call('HGET', kagent, 'state') == 'offering' then
    local since = tonumber(redis.call('HGET', kagent, 'since') or ARGV[4])
    redis.call('HINCRBY', ktis, 'offering', math.max(0, tonumber(ARGV[4]) - since))
    redis.call('EXPIRE', ktis, 3456000)
    redis.call('HSET', kagent, 'state', 'waiting', 'since', ARGV[4])
  end
  redis.call('ZREM', KEYS[3], who .. '|' .. ARGV[1] .. '|' .. ARGV[3])
  redis.call('SREM', kaoff, ARGV[1])
  redis.call('HINCRBY', kagent, 'version', 1)
  return true
end

local stopped = {}
if ring then
  for _, other in ipairs(redis.call('SMEMBERS', KEYS[8])) do
    if other ~= ARGV[2] and release('{cc}:agent:' .. other, '{cc}:tis:' .. ARGV[6] .. ':' .. other,
                                    '{cc}:aoff:' .. other, other) then
      stopped[#stopped + 1] = other
    end
  end
  redis.call('DEL', KEYS[8])
end
redis.call('HSET', KEYS[1], 'state', 'connected', 'agent', ARGV[2], 'ring', '')
redis.call('HINCRBY', KEYS[2], 'offers', -1)
redis.call('HINCRBY', KEYS[2], ARGV[3] == 'call' and 'calls' or 'chats', 1)
redis.call('HSET', KEYS[2], 'misses', '0')
redis.call('SADD', KEYS[7], ARGV[1])
if redis.call('HGET', KEYS[2], 'state') ~= 'busy' then
  local since = tonumber(redis.call('HGET', KEYS[2], 'since') or ARGV[4])
  redis.call('HINCRBY', KEYS[5], 'offering', math.max(0, tonumber(ARGV[4]) - since))
  redis.call('EXPIRE', KEYS[5], 3456000)
  redis.call('HSET', KEYS[2], 'state', 'busy', 'since', ARGV[4])
end
redis.call('ZREM', KEYS[3], ARGV[2] .. '|' .. ARGV[1] .. '|' .. ARGV[3])
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('SREM', KEYS[9], ARGV[1])
return {redis.call('HINCRBY', KEYS[2], 'version', 1), unpack(stopped)}
