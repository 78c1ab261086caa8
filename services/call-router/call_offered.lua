-- Records that an offer rings: state ringing, its agent, attempts + 1, the
-- first offer's time; once per offer (ring_ms), and only while the call
-- waits or rings for an older offer that the PBX did not report missed.
-- KEYS[1] KEY_CALL <id>  KEYS[2] KEY_CALLS_UNPUBLISHED  KEYS[3] KEY_CALLS_AGENT <agent>
-- ARGV[1] id  ARGV[2] the offer's ms  ARGV[3] agent
-- Returns nil when there is no record, {0} when nothing changed, else
-- {1, record field/value pairs}.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
local r = redis.call('HMGET', KEYS[1], 'state', 'offered_done', 'ring_ms', 'enq', 'offered')
local at = tonumber(ARGV[2])
if (r[1] ~= 'waiting' and r[1] ~= 'ringing') or tonumber(r[2] or '0') >= at or
    tonumber(r[3] or '0') >= at then
  return {0}
end
redis.call('HSET', KEYS[1], 'state', 'ringing', 'agent_id', ARGV[3], 'ring_ms', ARGV[2])
if not r[5] then
  redis.call('HSET', KEYS[1], 'offered', ARGV[2])
end
redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('SADD', KEYS[2], ARGV[1]) -- for the RECORDS pump
redis.call('ZADD', KEYS[3], r[4] or ARGV[2], ARGV[1])
return {1, redis.call('HGETALL', KEYS[1])}
