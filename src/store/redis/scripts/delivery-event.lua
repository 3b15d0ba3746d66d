-- KEYS[1] delivery hash, KEYS[2] its event list. ARGV[1] event JSON, ARGV[2]
-- provider message id or empty, ARGV[3] delete-at ms or empty. Appends only
-- to an existing delivery. Returns {} for an unknown one, else {channel,
-- retain-until ms}, which the provider-id index needs.
local h = redis.call('HMGET', KEYS[1], 'channel', 'retain_until')
if not h[1] then return {} end
redis.call('RPUSH', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'provider_id', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'delete_at', ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return h
