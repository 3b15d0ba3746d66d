-- KEYS[1] challenge. ARGV[1] now ms, ARGV[2] the fallback generation the
-- timer was set with. Claims the fallback for its caller alone: only while
-- the challenge is pending, within its attempts and its lifetime, and no
-- later send or fallback has happened (the generation still matches), the
-- generation moves on and the record is returned; otherwise {}.
local h = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'max_attempts', 'expires_at', 'fallback_gen')
if not h[1] or h[1] ~= 'pending' then return {} end
if tonumber(h[2]) >= tonumber(h[3]) then return {} end
if tonumber(ARGV[1]) >= tonumber(h[4]) then return {} end
if (tonumber(h[5]) or 0) ~= tonumber(ARGV[2]) then return {} end
redis.call('HINCRBY', KEYS[1], 'fallback_gen', 1)
return redis.call('HGETALL', KEYS[1])
