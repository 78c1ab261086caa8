-- Applies one decided change to an agent record if nobody changed it since it
-- was read (compare-and-set on the version), with its state timer and the
-- time spent in the state that ends.
-- KEYS[1] {cc}:agent:<id>   KEYS[2] {cc}:timers:state   KEYS[3] {cc}:tis:<day>:<id>
-- KEYS[4] {cc}:holds:<id>, the interactions the agent holds (accepted, not ended)
-- ARGV[1] expected version  ARGV[2] agent id  ARGV[3] timer due ms ("0": none)
-- ARGV[4] time-in-state field ("" none)  ARGV[5] ms spent
-- ARGV[6] "+<interaction>" (accepted), "-<interaction>" (ended) or ""
-- ARGV[7..] field, value pairs to set
-- Returns the new version; 0 when the version moved (read again, decide
-- again); -1 when the interaction to end is no longer held (ended already)
-- or the one to hold is held already (a retry).
local ver = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if ver ~= tonumber(ARGV[1]) then
  return 0
end
local hold = ARGV[6]
if hold:sub(1, 1) == '-' then
  if redis.call('SREM', KEYS[4], hold:sub(2)) == 0 then
    return -1
  end
elseif hold:sub(1, 1) == '+' then
  if redis.call('SADD', KEYS[4], hold:sub(2)) == 0 then
    return -1
  end
end
for i = 7, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
local nv = redis.call('HINCRBY', KEYS[1], 'version', 1)
if ARGV[3] ~= '0' then
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[2])
else
  redis.call('ZREM', KEYS[2], ARGV[2])
end
if ARGV[4] ~= '' and tonumber(ARGV[5]) > 0 then
  redis.call('HINCRBY', KEYS[3], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[3], 3456000)
end
return nv
