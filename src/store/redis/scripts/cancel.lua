-- KEYS[1] challenge. ARGV[1] now ms. Cancels a pending challenge. Returns {}
-- for an unknown id, else the fields after the call.
local h = redis.call('HMGET', KEYS[1], 'state', 'expires_at', 'attempts', 'max_attempts')
if not h[1] then return {} end
local now = tonumber(ARGV[1])
if h[1] == 'pending' and now < tonumber(h[2]) and tonumber(h[3]) < tonumber(h[4]) then
  redis.call('HSET', KEYS[1], 'state', 'canceled')
end
return redis.call('HGETALL', KEYS[1])
