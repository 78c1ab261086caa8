-- Reports: an interaction's figures, each stage counted once however often
-- its record is delivered (created, answered, ended).
-- KEYS[1] <tag>:rep:seen:<id> (the stages counted)
-- ARGV[1] retention s, then per stage: name, n, then n operations of four
-- values: key, field, amount, "incr" or "max".
-- Keys written are <tag>:rep:q:<queue>:<day> and <tag>:rep:a:<agent>:<day>, with
-- their day's set (<tag>:rep:queues:<day> / <tag>:rep:agents:<day>) given as
-- an operation of kind "member" (field = the id).
-- Returns the number of stages counted now.
local retention = tonumber(ARGV[1])
local i, counted = 2, 0
while i <= #ARGV do
  local stage, n = ARGV[i], tonumber(ARGV[i + 1])
  local fresh = redis.call('HSETNX', KEYS[1], stage, 1) == 1
  i = i + 2
  for _ = 1, n do
    local key, field, amount, op = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
    if fresh then
      if op == 'incr' then
        redis.call('HINCRBY', key, field, amount)
      elseif op == 'max' then
        local cur = tonumber(redis.call('HGET', key, field) or '0')
        if amount > cur then
          redis.call('HSET', key, field, amount)
        end
      elseif op == 'member' then
        redis.call('SADD', key, field)
      end
      redis.call('EXPIRE', key, retention)
    end
    i = i + 4
  end
  if fresh then
    counted = counted + 1
  end
end
redis.call('EXPIRE', KEYS[1], retention)
return counted
