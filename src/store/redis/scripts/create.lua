-- Follows charges.lua. KEYS[1] challenge. ARGV[A+1] idempotency fingerprint,
-- ARGV[A+2] expire-at ms, ARGV[A+3..] field, value pairs. Returns
-- {"created"}, {"conflict"} or {"replay", field, value, ...}.
local challenge = KEYS[1]
if redis.call('EXISTS', challenge) == 1 then
  local fp = redis.call('HGET', challenge, 'idem_fp')
  if fp and fp ~= '' and fp == ARGV[A + 1] then
    local out = redis.call('HGETALL', challenge)
    table.insert(out, 1, 'replay')
    return out
  end
  return {'conflict'}
end
redis.call('HSET', challenge, unpack(ARGV, A + 3))
redis.call('PEXPIREAT', challenge, ARGV[A + 2])
return {'created'}
