-- Signs a user out everywhere: deletes each session the user holds except
-- ARGV[1] (a session id to keep, or ""), and the set of them.
-- KEYS[1] = the user's sessions set (KEY_USESS)
-- ARGV[2] = the prefix of a session's key (KEY_SESS)
local keep = ARGV[1]
local n = 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= keep then
    n = n + redis.call('DEL', ARGV[2] .. sid)
    redis.call('SREM', KEYS[1], sid)
  end
end
return n
