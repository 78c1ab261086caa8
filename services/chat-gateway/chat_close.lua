-- The lists of a chat just completed: out of its agent's active set and the
-- open set, first in the agent's latest closed chats (once, however often
-- it runs), and the conversation's next message opens a new chat. Safe to
-- run again: a retried End chat finishes what a failed one left.
-- KEYS[1] {cc}:chats:active:<agent>  KEYS[2] {cc}:chats:closed:<agent>
-- KEYS[3] {cc}:chats:open  KEYS[4] {cc}:conv:<channel>:<from> ("" when none)
-- ARGV[1] chat id  ARGV[2] how many closed chats are kept
redis.call('SREM', KEYS[1], ARGV[1])
redis.call('SREM', KEYS[3], ARGV[1])
redis.call('LREM', KEYS[2], 0, ARGV[1])
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[2]) - 1)
if KEYS[4] ~= '' and redis.call('GET', KEYS[4]) == ARGV[1] then
  redis.call('DEL', KEYS[4])
end
return 1
