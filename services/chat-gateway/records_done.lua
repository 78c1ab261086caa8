-- After version ARGV[2] of a chat reached the RECORDS stream: the chat leaves
-- the pending set unless it changed again meanwhile (or is gone).
-- KEYS[1] {cc}:chat:<id>  KEYS[2] {cc}:records:pending
-- ARGV[1] chat id  ARGV[2] the version published
-- Returns 1 when it left the set, 0 when a newer version waits.
local v = tonumber(redis.call('HGET', KEYS[1], 'version') or '0')
if v > tonumber(ARGV[2]) then
  return 0
end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
