-- Appends an agent's message to its chat; the first one moves a new chat to
-- in_progress.
-- KEYS[1] {cc}:chat:<id>  KEYS[2] {cc}:chatmsgs:<id>  KEYS[3] {cc}:msg:<message id>
-- KEYS[4] {cc}:records:pending: the state change is a new version of the chat
-- ARGV[1] message id  ARGV[2] packed ChatMessage  ARGV[3] order  ARGV[4] chat id
-- ARGV[5] now ms  ARGV[6] "1": a bot's message (the closing message) that leaves the state
-- Returns 1 when the chat moved to in_progress, 0 when not, -1 when it is completed.
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'completed' or not state then
  return -1
end
redis.call('HSET', KEYS[3], 'chat', ARGV[4], 'pb', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
if state == 'new' and ARGV[6] ~= '1' then
  redis.call('HSET', KEYS[1], 'state', 'in_progress', 'changed', ARGV[5])
  redis.call('HINCRBY', KEYS[1], 'version', 1)
  redis.call('ZADD', KEYS[4], 'NX', ARGV[5], ARGV[4])
  return 1
end
return 0
