-- Applies one change to a call record: fields set, version + 1, indexes kept.
-- KEYS[1] KEY_CALL <id>  KEYS[2] KEY_CALLS_ACTIVE  KEYS[3] KEY_CALLS_CLOSED
-- KEYS[4] KEY_CALLS_UNPUBLISHED
-- ARGV[1] id  ARGV[2] "1": also when ended  ARGV[3] now ms  ARGV[4] ttl s once ended
-- ARGV[5] the prefix of KEY_CALLS_AGENT  ARGV[6..] field, value pairs ("" deletes the field)
-- Returns {applied, record field/value pairs}: applied is 0 when the record
-- was ended already (and ARGV[2] is not "1"); nil when there is no record.
if redis.call('EXISTS', KEYS[1]) == 0 then
  return nil
end
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'ended' and ARGV[2] ~= '1' then
  return {0, redis.call('HGETALL', KEYS[1])}
end
local set, del = {}, {} -- one HSET and one HDEL at most
for i = 6, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    del[#del + 1] = ARGV[i]
  else
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i + 1]
  end
end
if #set > 0 then
  redis.call('HSET', KEYS[1], unpack(set))
end
if #del > 0 then
  redis.call('HDEL', KEYS[1], unpack(del))
end
redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('SADD', KEYS[4], ARGV[1]) -- for the RECORDS pump
local rec = redis.call('HMGET', KEYS[1], 'state', 'agent_id', 'enq')
if rec[2] then
  redis.call('ZADD', ARGV[5] .. rec[2], rec[3] or ARGV[3], ARGV[1])
end
if rec[1] == 'ended' and state ~= 'ended' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[4])
end
return {1, redis.call('HGETALL', KEYS[1])}
