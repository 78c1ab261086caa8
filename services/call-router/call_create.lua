-- Creates a call record unless the PBX created this call before (it retries).
-- KEYS[1] KEY_PBXCALL <call_id>  KEYS[2] KEY_CALL <id>
-- KEYS[3] KEY_CALLS_UNPUBLISHED  KEYS[4..] index sorted sets
-- ARGV[1] the new id  ARGV[2] created ms (index score)  ARGV[3] ttl s of the call_id
-- ARGV[4] the prefix of KEY_CALL  ARGV[5..] field, value pairs
-- Returns {1, id} when created, {0, id} when it existed, then the record's
-- field/value pairs.
local old = redis.call('GET', KEYS[1])
if old then
  return {0, old, redis.call('HGETALL', ARGV[4] .. old)}
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
local set = {'version', 1} -- one HSET of every field given
for i = 5, #ARGV, 2 do
  if ARGV[i + 1] ~= '' then
    set[#set + 1] = ARGV[i]
    set[#set + 1] = ARGV[i + 1]
  end
end
redis.call('HSET', KEYS[2], unpack(set))
redis.call('SADD', KEYS[3], ARGV[1]) -- for the RECORDS pump
for k = 4, #KEYS do
  redis.call('ZADD', KEYS[k], ARGV[2], ARGV[1])
end
return {1, ARGV[1], redis.call('HGETALL', KEYS[2])}
