-- KEYS[1] factor hash, KEYS[2] its recovery set. ARGV[1] now ms, ARGV[2]
-- step, ARGV[3] required state, ARGV[4] retain-until ms, ARGV[5..] recovery
-- code HMACs to store (ConfirmTotp). Mirrors applyTotpStep.
local h = redis.call('HMGET', KEYS[1], 'state', 'last_used_step', 'locked_until', 'retain_until')
if not h[1] then return {'not_found'} end
if tonumber(ARGV[1]) < tonumber(h[3]) then return {'locked', h[3]} end
if h[1] ~= ARGV[3] then return {'wrong_state', h[1]} end
if tonumber(ARGV[2]) <= tonumber(h[2]) then return {'replayed'} end
local retain = ARGV[4]
if tonumber(h[4]) > tonumber(retain) then retain = h[4] end
redis.call('HSET', KEYS[1], 'last_used_step', ARGV[2], 'failures', '0', 'state', 'confirmed', 'retain_until', retain)
if #ARGV > 4 then
  redis.call('DEL', KEYS[2])
  redis.call('SADD', KEYS[2], unpack(ARGV, 5))
end
redis.call('PEXPIREAT', KEYS[1], retain)
if redis.call('EXISTS', KEYS[2]) == 1 then redis.call('PEXPIREAT', KEYS[2], retain) end
return {'ok'}
