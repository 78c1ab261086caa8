-- Signs a user out everywhere: deletes each session the user holds except
-- ARGV[1] (a session id to keep, or ""), and the set of them.
-- KEYS[1] = {cc}:usess:<user_id>
local keep = ARGV[1]
local n = 0
for _, sid in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if sid ~= keep then
    n = n + redis.call('DEL', '{cc}:sess:' .. sid)
    redis.call('SREM', KEYS[1], sid)
  end
end
return n
