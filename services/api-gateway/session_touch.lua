-- session_touch.lua - validates a staff session and renews its idle timeout,
-- atomically, for api-gateway's bearer-token check (auth.c).
-- KEYS[1] = {cc}:sess:<hex hash of the token>, a hash written by
-- agent-registry at login with fields user_id, role and idle (seconds of
-- sliding idle timeout; 0 = no idle expiry).
-- Returns {user_id, role}, or nil when the session is unknown or expired.
local v = redis.call('HMGET', KEYS[1], 'user_id', 'role', 'idle')
if not v[1] or not v[2] or v[1] == '' or v[2] == '' then
    return nil
end
local idle = tonumber(v[3]) or 0
if idle > 0 then
    redis.call('EXPIRE', KEYS[1], math.floor(idle))
end
return {v[1], v[2]}
