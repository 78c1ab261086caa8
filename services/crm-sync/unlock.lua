-- unlock.lua - releases the lock KEYS[1] of one interaction's write only
-- when it still holds this writer's token ARGV[1] (it may have expired and
-- been taken by another replica meanwhile).
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
