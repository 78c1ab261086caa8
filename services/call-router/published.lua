-- The RECORDS pump published version ARGV[2] of call ARGV[1]: it leaves the
-- set of unpublished calls unless a newer version came meanwhile.
-- KEYS[1] {cc}:calls:unpublished  KEYS[2] {cc}:call:<id>
if tonumber(redis.call('HGET', KEYS[2], 'version') or '0') <= tonumber(ARGV[2]) then
  redis.call('SREM', KEYS[1], ARGV[1])
  return 1
end
return 0
