-- Follows charges.lua. KEYS[1] challenge, the last R keys recipient index
-- keys. ARGV[A+1] idempotency fingerprint, ARGV[A+2] expire-at ms, ARGV[A+3]
-- R, ARGV[A+4] when the index entries expire (ms, the retention), ARGV[A+5] the challenge
-- id, ARGV[A+6..] the values of FIELDS, in order (scripts.ts puts FIELDS,
-- the field names, before this script from challenge-fields.ts). Returns {"created"}, {"conflict"} or
-- {"replay", field, value, ...}; "created" is followed by the limits this call
-- brought to 80 % (charges.lua's NEAR, comma-separated). Only a created
-- challenge moves the index.
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
local fields = {}
for i = 1, #FIELDS do
  fields[2 * i - 1] = FIELDS[i]
  fields[2 * i] = ARGV[A + 5 + i]
end
redis.call('HSET', challenge, unpack(fields))
redis.call('PEXPIREAT', challenge, ARGV[A + 2])
local R = tonumber(ARGV[A + 3])
for i = #KEYS - R + 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[A + 5], 'PXAT', ARGV[A + 4])
end
return {'created', table.concat(NEAR, ',')}
