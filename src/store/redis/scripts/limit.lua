-- One limit on its own, where its counter lives apart from the challenge
-- (shards, Cluster). KEYS[1] counter. ARGV[1] points, ARGV[2] window ms. The
-- same fixed window as charges.lua. Returns {hits in the window, ms until it ends}.
redis.call('SET', KEYS[1], 0, 'PX', ARGV[2], 'NX')
local consumed = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {consumed, ttl}
