-- Reports: time in each status/state, per agent and 15-minute interval, from
-- the agent's status events (applied once each, in version order).
-- KEYS[1] {cc}:rep:last:<agent> (the state being timed: version, since, field)
-- ARGV[1] agent id  ARGV[2] event version  ARGV[3] since ms of the new state
-- ARGV[4] the new state's field (ready, waiting, pause.<cause>, offline, ...)
-- ARGV[5] retention s  ARGV[6] "1": the event is a missed offer  ARGV[7] now ms
-- Keys written: {cc}:rep:a:<agent>:<day> (day = days since 1970-01-01, UTC),
-- fields "<quarter of the day>|t.<field>" (ms), "<quarter>|missed";
-- {cc}:rep:agents:<day>, the agents with figures that day.
-- Returns 1 when applied, 0 for an event older than one applied before.
local Q = 900000
local MAX_STRETCH = 31 * 86400000
local agent, retention = ARGV[1], tonumber(ARGV[5])

local function touch(day)
  local key = '{cc}:rep:a:' .. agent .. ':' .. day
  redis.call('SADD', '{cc}:rep:agents:' .. day, agent)
  redis.call('EXPIRE', '{cc}:rep:agents:' .. day, retention)
  redis.call('EXPIRE', key, retention)
  return key
end

local function account(field, from, to)
  if from < to - MAX_STRETCH then
    from = to - MAX_STRETCH
  end
  while from < to do
    local q = math.floor(from / Q)
    local part = math.min(to, (q + 1) * Q) - from
    local day = math.floor(q / 96)
    redis.call('HINCRBY', touch(day), (q % 96) .. '|t.' .. field, part)
    from = from + part
  end
end

local last = redis.call('HMGET', KEYS[1], 'version', 'since', 'field')
local v = tonumber(ARGV[2])
if last[1] and v <= tonumber(last[1]) then
  return 0
end
local since = tonumber(ARGV[3])
if last[2] and last[3] and last[3] ~= 'offline' then
  account(last[3], tonumber(last[2]), since)
end
redis.call('HSET', KEYS[1], 'version', v, 'since', since, 'field', ARGV[4])
redis.call('EXPIRE', KEYS[1], retention)
if ARGV[6] == '1' then
  local q = math.floor(tonumber(ARGV[7]) / Q)
  redis.call('HINCRBY', touch(math.floor(q / 96)), (q % 96) .. '|missed', 1)
end
return 1
