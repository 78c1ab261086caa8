-- Reports: time in each status/state, per agent and 15-minute interval, from
-- the agents' status events (applied once each, in version order), several
-- events in one call (reports_ingest.c counts them off the hot path, in the
-- order they arrived).
-- KEYS[i] {cc}:rep:last:<agent of event i> (the state being timed: version,
-- since, field)
-- ARGV[1] retention s, ARGV[2] the prefix of an agent's day (KEY_REP_AGENT),
-- ARGV[3] the prefix of the day's agents (KEY_REP_AGENTS), then per event 6
-- arguments: agent id, event version,
-- since ms of the new state, the new state's field (ready, waiting,
-- pause.<cause>, offline, ...), "1" when the event is a missed offer, now ms
-- Keys written: {cc}:rep:a:<agent>:<day> (day = days since 1970-01-01, UTC),
-- fields "<quarter of the day>|t.<field>" (ms), "<quarter>|missed";
-- {cc}:rep:agents:<day>, the agents with figures that day.
-- Returns how many events were applied (an event older than one applied
-- before is not).
local Q = 900000
local MAX_STRETCH = 31 * 86400000
local retention = tonumber(ARGV[1])

local function touch(agent, day)
  local key = ARGV[2] .. agent .. ':' .. day
  redis.call('SADD', ARGV[3] .. day, agent)
  redis.call('EXPIRE', ARGV[3] .. day, retention)
  redis.call('EXPIRE', key, retention)
  return key
end

local function account(agent, field, from, to)
  if from < to - MAX_STRETCH then
    from = to - MAX_STRETCH
  end
  while from < to do
    local q = math.floor(from / Q)
    local part = math.min(to, (q + 1) * Q) - from
    local day = math.floor(q / 96)
    redis.call('HINCRBY', touch(agent, day), (q % 96) .. '|t.' .. field, part)
    from = from + part
  end
end

-- Event i: KEYS[i], ARGV[a .. a+5].
local function apply(klast, a)
  local agent = ARGV[a]
  local last = redis.call('HMGET', klast, 'version', 'since', 'field')
  local v = tonumber(ARGV[a + 1])
  if last[1] and v <= tonumber(last[1]) then
    return 0
  end
  local since = tonumber(ARGV[a + 2])
  if last[2] and last[3] and last[3] ~= 'offline' then
    account(agent, last[3], tonumber(last[2]), since)
  end
  redis.call('HSET', klast, 'version', v, 'since', since, 'field', ARGV[a + 3])
  redis.call('EXPIRE', klast, retention)
  if ARGV[a + 4] == '1' then
    local q = math.floor(tonumber(ARGV[a + 5]) / Q)
    redis.call('HINCRBY', touch(agent, math.floor(q / 96)), (q % 96) .. '|missed', 1)
  end
  return 1
end

local applied = 0
for i = 1, #KEYS do
  applied = applied + apply(KEYS[i], 4 + 6 * (i - 1))
end
return applied
