-- KEYS[1] delivery hash, KEYS[2] its event list. ARGV[1] idempotency
-- fingerprint, ARGV[2] expire-at ms, ARGV[3] first event JSON, ARGV[4..] field,
-- value pairs. Returns {"created"}, {"conflict"} or {"replay"}.
if redis.call('EXISTS', KEYS[1]) == 1 then
  local fp = redis.call('HGET', KEYS[1], 'idem_fp')
  if fp and fp ~= '' and fp == ARGV[1] then return {'replay'} end
  return {'conflict'}
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('PEXPIREAT', KEYS[2], ARGV[2])
return {'created'}
