-- Follows charges.lua. KEYS[1] challenge. ARGV[A+1] now ms, ARGV[A+2] binding
-- hash, ARGV[A+3] the tenant that must own the challenge ('' for any),
-- ARGV[A+4..] candidate HMACs, each written "<alphabet>:<hmac>" ("*" for
-- any alphabet): only those of the challenge's alphabet count.
--
-- Another tenant's challenge answers {} exactly as an unknown id, and is left
-- unchanged. The attempt is counted before anything is compared. Returns {}
-- for an unknown id, else {outcome, field, value, ...}.
local challenge = KEYS[1]
local h = redis.call('HMGET', challenge, 'state', 'expires_at', 'attempts', 'max_attempts', 'code_hmac', 'binding_hash', 'tenant', 'alphabet')
if not h[1] then return {} end
local owner = ARGV[A + 3]
if owner ~= '' then
  local tenant = h[7]
  if not tenant or tenant == '' then tenant = 'default' end
  if tenant ~= owner then return {} end
end
local now = tonumber(ARGV[A + 1])
local outcome
if h[1] == 'verified' then
  outcome = 'already_verified'
elseif h[1] == 'canceled' then
  outcome = 'canceled'
elseif now >= tonumber(h[2]) then
  outcome = 'expired'
elseif tonumber(h[3]) >= tonumber(h[4]) then
  outcome = 'attempts_exhausted'
else
  redis.call('HINCRBY', challenge, 'attempts', 1)
  local alphabet = h[8] or 'numeric'
  local match = false
  for i = A + 4, #ARGV do
    local candidate = ARGV[i]
    local sep = string.find(candidate, ':', 1, true)
    if sep then
      local a = string.sub(candidate, 1, sep - 1)
      if (a == '*' or a == alphabet) and string.sub(candidate, sep + 1) == h[5] then
        match = true
      end
    end
  end
  if ARGV[A + 2] ~= h[6] then
    outcome = 'binding_mismatch'
  elseif match then
    outcome = 'verified'
    redis.call('HSET', challenge, 'state', 'verified', 'verified_at', ARGV[A + 1])
  else
    outcome = 'invalid_code'
  end
end
local out = redis.call('HGETALL', challenge)
table.insert(out, 1, outcome)
return out
