-- How many interactions wait in a queue and the enqueue time of the oldest.
-- The queue is ordered by priority band, then enqueue time (the score is
-- (200 - priority) * 1e13 + enqueue ms), so the oldest is the first of one of
-- the bands: visit the first of each band.
-- KEYS[1] {cc}:wait:<queue>
-- Returns {count, oldest enqueue ms (0 when none)}.
local band = 1e13
local count = redis.call('ZCARD', KEYS[1])
local oldest, from = 0, '-inf'
for _ = 1, 201 do
  local first = redis.call('ZRANGEBYSCORE', KEYS[1], from, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  if #first == 0 then
    break
  end
  local score = tonumber(first[2])
  local enq = score % band
  if oldest == 0 or enq < oldest then
    oldest = enq
  end
  from = '(' .. string.format('%.0f', (math.floor(score / band) + 1) * band - 1)
end
return {count, string.format('%.0f', oldest)}
