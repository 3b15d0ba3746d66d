-- KEYS[1] factor hash. ARGV[1] now ms, ARGV[2] max failures, ARGV[3]
-- locked-until ms should this failure start a lock-out. Mirrors applyTotpFailure.
local h = redis.call('HMGET', KEYS[1], 'failures', 'locked_until')
if not h[1] then return {'not_found'} end
if tonumber(ARGV[1]) < tonumber(h[2]) then return {'locked', h[2]} end
local failures = tonumber(h[1]) + 1
local max = tonumber(ARGV[2])
if failures >= max then
  redis.call('HSET', KEYS[1], 'failures', '0', 'locked_until', ARGV[3])
  return {'counted', '0', ARGV[3]}
end
redis.call('HSET', KEYS[1], 'failures', tostring(failures))
return {'counted', tostring(max - failures), '0'}
