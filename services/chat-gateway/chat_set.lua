-- Changes fields of an existing chat and gives it a new version in the same
-- step, so that crm-sync sees every change (records.c publishes the version;
-- until then the chat waits in the pending set for the records sweeper).
-- KEYS[1] {cc}:chat:<id>  KEYS[2] {cc}:records:pending (chat id by change time)
-- ARGV[1] chat id  ARGV[2] now ms  ARGV[3..] field, value pairs
-- Returns the new version, or -1 when the chat does not exist.
if redis.call('HEXISTS', KEYS[1], 'state') == 0 then
  return -1
end
for i = 3, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
end
redis.call('HSET', KEYS[1], 'changed', ARGV[2])
redis.call('ZADD', KEYS[2], 'NX', ARGV[2], ARGV[1])
return redis.call('HINCRBY', KEYS[1], 'version', 1)
