-- The customer left: a waiting or offered interaction ends as abandoned at
-- once, so that no agent can accept it any more; a connected one is ended by
-- the router through agent-registry (the agent goes to wrap-up).
-- KEYS[1] {cc}:ix:<id>  KEYS[2] {cc}:wait:<queue>  KEYS[3] {cc}:offered
-- KEYS[4] {cc}:ring:<id>  KEYS[5] {cc}:deadline
-- ARGV[1] id
-- Returns {state before, the agents it was offered to or connected with...}.
local state = redis.call('HGET', KEYS[1], 'state')
if not state then
  return {'none'}
end
local agents = {}
if state == 'offered' and redis.call('HGET', KEYS[1], 'ring') == '1' then
  agents = redis.call('SMEMBERS', KEYS[4])
elseif state == 'offered' or state == 'connected' then
  agents = {redis.call('HGET', KEYS[1], 'agent')}
end
if state == 'waiting' or state == 'offered' then
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3], ARGV[1])
  redis.call('ZREM', KEYS[5], ARGV[1])
  redis.call('DEL', KEYS[4])
  redis.call('HSET', KEYS[1], 'state', 'ended', 'end_reason', 'abandoned', 'ring', '')
end
return {state, unpack(agents)}
