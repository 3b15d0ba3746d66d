-- Follows charges.lua. KEYS[1] challenge, the last R keys recipient index
-- keys. ARGV[A+1] R, ARGV[A+2] when the index entries expire (ms, the
-- retention), ARGV[A+3] the challenge id, ARGV[A+4..] the values of FIELDS,
-- in order (scripts.ts puts FIELDS, the field names from challenge-fields.ts,
-- before this script); the idempotency fingerprint and the expiry are read
-- from those values. Returns {"created"}, {"conflict"} or
-- {"replay", field, value, ...}; "created" is followed by the limits this call
-- brought to 80 % (charges.lua's NEAR, comma-separated). Only a created
-- challenge moves the index.
local challenge = KEYS[1]
local fields = {}
local value = {}
for i = 1, #FIELDS do
  local v = ARGV[A + 3 + i]
  fields[2 * i - 1] = FIELDS[i]
  fields[2 * i] = v
  value[FIELDS[i]] = v
end
if redis.call('EXISTS', challenge) == 1 then
  local fp = redis.call('HGET', challenge, 'idem_fp')
  if fp and fp ~= '' and fp == value['idem_fp'] then
    local out = redis.call('HGETALL', challenge)
    table.insert(out, 1, 'replay')
    return out
  end
  return {'conflict'}
end
redis.call('HSET', challenge, unpack(fields))
redis.call('PEXPIREAT', challenge, value['retain_until'])
local R = tonumber(ARGV[A + 1])
for i = #KEYS - R + 1, #KEYS do
  redis.call('SET', KEYS[i], ARGV[A + 3], 'PXAT', ARGV[A + 2])
end
return {'created', table.concat(NEAR, ',')}
