-- KEYS[1] factor hash, KEYS[2] its recovery set. ARGV[1] now ms, ARGV[2]
-- retain-until ms, ARGV[3..] candidate HMACs. Mirrors applyTotpRecovery.
local h = redis.call('HMGET', KEYS[1], 'state', 'locked_until', 'retain_until')
if not h[1] then return {'not_found'} end
if tonumber(ARGV[1]) < tonumber(h[2]) then return {'locked', h[2]} end
if h[1] ~= 'confirmed' then return {'wrong_state', h[1]} end
local matched = false
for i = 3, #ARGV do
  if not matched and redis.call('SREM', KEYS[2], ARGV[i]) == 1 then matched = true end
end
if not matched then return {'invalid'} end
local retain = ARGV[2]
if tonumber(h[3]) > tonumber(retain) then retain = h[3] end
redis.call('HSET', KEYS[1], 'failures', '0', 'retain_until', retain)
redis.call('PEXPIREAT', KEYS[1], retain)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIREAT', KEYS[2], retain) end
return {'ok', tostring(redis.call('SCARD', KEYS[2]))}
