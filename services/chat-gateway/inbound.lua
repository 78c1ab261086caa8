-- Stores one customer message in its conversation's open chat, once: a
-- provider's retry (the same provider message id) changes nothing. A message
-- of a conversation without an open chat opens one.
-- (key names are cc_keys.h's)
-- KEYS[1] KEY_PMSG <channel>:<provider message id>
-- KEYS[2] KEY_CONV <channel>:<conversation> (its open chat)
-- KEYS[3] KEY_CONVLAST <channel>:<conversation> (its latest chat)
-- KEYS[4] KEY_CHATS_ALL (by creation)  KEYS[5] KEY_CHATS_OPEN
-- KEYS[6] KEY_RECORDS_PENDING (a new chat is version 1, not yet in RECORDS)
-- KEYS[7] KEY_CONVSEQ <channel>:<conversation> (its messages of the last hour
--         by order: a message applied late, after one that arrived after it,
--         goes into that later message's chat, before it, so that a
--         conversation's messages stay in arrival order across its chats)
-- ARGV[1] new message id  ARGV[2] packed ChatMessage  ARGV[3] order in the chat
-- ARGV[4] new chat id  ARGV[5] now ms
-- ARGV[6..8] the prefixes of KEY_CHAT, KEY_MSG, KEY_CHATMSGS
-- ARGV[9] TTL s of KEYS[1]  ARGV[10] TTL s of KEYS[3]
-- ARGV[11..] the new chat's field, value pairs
-- The chat's and message's own keys (KEY_CHAT, KEY_CHATMSGS, KEY_MSG) are
-- made here from their prefixes: the chat is only known here, and they share
-- the deployment's hash slot with the rest.
-- Returns {chat id, message id, 1 when the chat opened now, 1 when the message
-- is new, the chat's enqueued flag, its agent}.
local function answer(chat, msg, opened, new)
  local c = redis.call('HMGET', ARGV[6] .. chat, 'enqueued', 'agent')
  return {chat, msg, opened, new, c[1] or '0', c[2] or ''}
end

local seen = redis.call('GET', KEYS[1])
if seen then
  local chat, msg = string.match(seen, '^(%S+) (%S+)$')
  return answer(chat, msg, 0, 0)
end
local chat, opened = redis.call('GET', KEYS[2]), 0
local later = redis.call('ZRANGEBYSCORE', KEYS[7], '(' .. ARGV[3], '+inf', 'LIMIT', 0, 1)[1]
if later then
  chat = redis.call('HGET', ARGV[7] .. later, 'chat') or chat
end
if not chat then
  chat, opened = ARGV[4], 1
  for i = 11, #ARGV, 2 do
    redis.call('HSET', ARGV[6] .. chat, ARGV[i], ARGV[i + 1])
  end
  redis.call('HSET', ARGV[6] .. chat, 'version', 1, 'changed', ARGV[5])
  redis.call('ZADD', KEYS[6], 'NX', ARGV[5], chat)
  redis.call('SET', KEYS[2], chat)
  redis.call('SET', KEYS[3], chat, 'EX', ARGV[10])
  redis.call('ZADD', KEYS[4], ARGV[5], chat)
  redis.call('SADD', KEYS[5], chat)
end
redis.call('HSET', ARGV[7] .. ARGV[1], 'chat', chat, 'pb', ARGV[2])
redis.call('ZADD', ARGV[8] .. chat, ARGV[3], ARGV[1])
redis.call('SET', KEYS[1], chat .. ' ' .. ARGV[1], 'EX', ARGV[9])
redis.call('ZADD', KEYS[7], ARGV[3], ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', '(' .. ((tonumber(ARGV[5]) - 3600000) * 1000))
redis.call('EXPIRE', KEYS[7], 86400)
return answer(chat, ARGV[1], opened, 1)
