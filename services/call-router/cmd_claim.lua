-- Hands the PBX up to ARGV[3] queued commands, each leased for ARGV[2] ms;
-- commands whose lease ran out first go back to the front of the queue.
-- KEYS[1] KEY_PBX_CMD_QUEUE (ids, oldest first)  KEYS[2] KEY_PBX_CMD_LEASED (by expiry)
-- ARGV[1] now ms  ARGV[2] lease ms  ARGV[3] at most  ARGV[4] attempts allowed
-- ARGV[5] the prefix of KEY_PBX_CMD
-- Returns {id, field, value, ...} per command: a flat list of lists.
local now, lease = tonumber(ARGV[1]), tonumber(ARGV[2])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do
  redis.call('ZREM', KEYS[2], id)
  local key = ARGV[5] .. id
  if redis.call('HINCRBY', key, 'attempts', 0) >= tonumber(ARGV[4]) then
    redis.call('HSET', key, 'state', 'failed', 'reason', 'the PBX never reported a result')
  else
    redis.call('LPUSH', KEYS[1], id)
  end
end
local out = {}
for _ = 1, tonumber(ARGV[3]) do
  local id = redis.call('LPOP', KEYS[1])
  if not id then
    break
  end
  local key = ARGV[5] .. id
  if redis.call('HGET', key, 'state') == 'pending' then
    redis.call('HINCRBY', key, 'attempts', 1)
    redis.call('ZADD', KEYS[2], now + lease, id)
    out[#out + 1] = redis.call('HGETALL', key)
  end
end
return out
