-- KEYS[1] challenge. ARGV[1] now ms, ARGV[2] new code HMAC, ARGV[3] cooldown
-- ms, ARGV[4] max sends, ARGV[5] retention ms, ARGV[6] "1" to keep a live
-- sealed code, ARGV[7] the new code sealed ("" for none). The new lifetime
-- comes from the challenge's own ttl, read here, so no separate read is
-- needed. Returns {"not_found"}, {"not_pending", fields...}, {"send_limit"},
-- {"cooldown", retry-after ms} or {"replaced", fields...}; a kept code shows
-- as the old code HMAC in the fields.
local h = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'max_attempts', 'sends', 'last_sent_at', 'retain_until', 'ttl', 'expires_at', 'sealed_code')
if not h[1] then return {'not_found'} end
if h[1] ~= 'pending' or tonumber(h[2]) >= tonumber(h[3]) then
  local out = redis.call('HGETALL', KEYS[1])
  table.insert(out, 1, 'not_pending')
  return out
end
if tonumber(h[4]) >= tonumber(ARGV[4]) then return {'send_limit'} end
local now = tonumber(ARGV[1])
local ready = tonumber(h[5]) + tonumber(ARGV[3])
if now < ready then return {'cooldown', string.format('%.0f', ready - now)} end
if ARGV[6] == '1' and h[9] and h[9] ~= '' and now < tonumber(h[8]) then
  -- The same code again while it is valid: only the send is counted.
  redis.call('HSET', KEYS[1], 'last_sent_at', ARGV[1], 'delivery_attempts', '[]')
else
  local expires = now + tonumber(h[7]) * 1000
  local retain = math.max(tonumber(h[6]), expires + tonumber(ARGV[5]))
  local retainText = string.format('%.0f', retain)
  redis.call('HSET', KEYS[1], 'code_hmac', ARGV[2], 'expires_at', string.format('%.0f', expires), 'last_sent_at', ARGV[1], 'retain_until', retainText, 'delivery_attempts', '[]', 'sealed_code', ARGV[7])
  redis.call('PEXPIREAT', KEYS[1], retainText)
end
redis.call('HINCRBY', KEYS[1], 'sends', 1)
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'replaced')
return out
