import { readFileSync } from "node:fs";

/**
 * The Lua scripts behind every state change of a challenge. Each runs as one
 * atomic step on the one key (a hash) that holds the challenge, so Redis
 * Cluster can run it in the key's slot. Times come in as strings from Node,
 * never formatted by Lua, and every write keeps or sets the key's expiry.
 *
 * Steps mirror src/store/challenge-transitions.ts; the shared store contract
 * tests hold both to the same behaviour.
 */

// The hot path's scripts live as .lua files beside this module, read once at start.
const lua = (name: string) => readFileSync(new URL(`./scripts/${name}`, import.meta.url), "utf8");
const charges = lua("charges.lua");

/**
 * Generate's one step: charges the call's limits and usage (charges.lua),
 * then stores the challenge unless its id exists (create.lua). Takes a
 * variable number of keys.
 */
export const createScript = charges + lua("create.lua");

/**
 * Verify's one step: charges the call's limits and usage (charges.lua), then
 * checks ownership, counts the attempt and compares (verify.lua). Takes a
 * variable number of keys.
 */
export const verifyScript = charges + lua("verify.lua");

/** One limit counter on its own node (limit.lua). */
export const limitScript = lua("limit.lua");

/** Gives one hit back to a limit counter (refund.lua). */
export const refundScript = lua("refund.lua");

/**
 * KEYS[1] challenge. ARGV[1] now ms. Cancels a pending challenge. Returns {}
 * for an unknown id, else the fields after the call.
 */
export const cancelScript = `
local h = redis.call('HMGET', KEYS[1], 'state', 'expires_at', 'attempts', 'max_attempts')
if not h[1] then return {} end
local now = tonumber(ARGV[1])
if h[1] == 'pending' and now < tonumber(h[2]) and tonumber(h[3]) < tonumber(h[4]) then
  redis.call('HSET', KEYS[1], 'state', 'canceled')
end
return redis.call('HGETALL', KEYS[1])
`;

/**
 * KEYS[1] challenge. ARGV[1] now ms, ARGV[2] new code HMAC, ARGV[3] cooldown
 * ms, ARGV[4] max sends, ARGV[5] retention ms. The new lifetime comes from
 * the challenge's own ttl, read here, so no separate read is needed. Returns
 * {"not_found"}, {"not_pending", fields...}, {"send_limit"}, {"cooldown",
 * retry-after ms} or {"replaced", fields...}.
 */
export const replaceCodeScript = `
local h = redis.call('HMGET', KEYS[1], 'state', 'attempts', 'max_attempts', 'sends', 'last_sent_at', 'retain_until', 'ttl')
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
local expires = now + tonumber(h[7]) * 1000
local retain = math.max(tonumber(h[6]), expires + tonumber(ARGV[5]))
local expiresText = string.format('%.0f', expires)
local retainText = string.format('%.0f', retain)
redis.call('HSET', KEYS[1], 'code_hmac', ARGV[2], 'expires_at', expiresText, 'last_sent_at', ARGV[1], 'retain_until', retainText, 'delivery_attempts', '[]')
redis.call('HINCRBY', KEYS[1], 'sends', 1)
redis.call('PEXPIREAT', KEYS[1], retainText)
local out = redis.call('HGETALL', KEYS[1])
table.insert(out, 1, 'replaced')
return out
`;
/** KEYS[1] challenge. ARGV[1] delivery attempts as JSON. Writes only to an existing key. */
export const setDeliveryAttemptsScript = `
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'delivery_attempts', ARGV[1])
end
return 1
`;

/** KEYS[1] outbox list. ARGV[1] entry JSON, ARGV[2] max entries, ARGV[3] retention ms. */
export const appendOutboxScript = `
redis.call('LPUSH', KEYS[1], ARGV[1])
redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[2]) - 1)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1
`;

/** KEYS[1] factor hash. ARGV[1] expire-at ms, ARGV[2..] field, value pairs. */
export const totpCreateScript = `
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return 1
`;

/**
 * KEYS[1] factor hash, KEYS[2] its recovery set. ARGV[1] now ms, ARGV[2]
 * step, ARGV[3] required state, ARGV[4] retain-until ms, ARGV[5..] recovery
 * code HMACs to store (ConfirmTotp). Mirrors applyTotpStep.
 */
export const totpUseStepScript = `
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
`;

/**
 * KEYS[1] factor hash. ARGV[1] now ms, ARGV[2] max failures, ARGV[3]
 * locked-until ms should this failure start a lock-out. Mirrors applyTotpFailure.
 */
export const totpFailureScript = `
local h = redis.call('HMGET', KEYS[1], 'failures', 'locked_until')
if not h[1] then return {'not_found'} end
if tonumber(ARGV[1]) < tonumber(h[2]) then return {'locked', h[2]} end
local failures = tonumber(h[1]) + 1
local max = tonumber(ARGV[2])
if failures >= max then
  redis.call('HSET', KEYS[1], 'failures', '0', 'locked_until', ARGV[3])
  return {'counted', '0', ARGV[3]}
end
redis.call('HSET', KEYS[1], 'failures', tostring(failures))
return {'counted', tostring(max - failures), '0'}
`;

/**
 * KEYS[1] factor hash, KEYS[2] its recovery set. ARGV[1] now ms, ARGV[2]
 * retain-until ms, ARGV[3..] candidate HMACs. Mirrors applyTotpRecovery.
 */
export const totpRecoveryScript = `
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
`;

/**
 * KEYS[1] delivery hash, KEYS[2] its event list. ARGV[1] idempotency
 * fingerprint, ARGV[2] expire-at ms, ARGV[3] first event JSON, ARGV[4..] field,
 * value pairs. Returns {"created"}, {"conflict"} or {"replay"}.
 */
export const deliveryCreateScript = `
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
`;

/**
 * KEYS[1] delivery hash, KEYS[2] its event list. ARGV[1] event JSON, ARGV[2]
 * provider message id or empty, ARGV[3] delete-at ms or empty. Appends only
 * to an existing delivery. Returns {} for an unknown one, else {channel,
 * retain-until ms}, which the provider-id index needs.
 */
export const deliveryEventScript = `
local h = redis.call('HMGET', KEYS[1], 'channel', 'retain_until')
if not h[1] then return {} end
redis.call('RPUSH', KEYS[2], ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'provider_id', ARGV[2]) end
if ARGV[3] ~= '' then redis.call('HSET', KEYS[1], 'delete_at', ARGV[3]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('PEXPIRE', KEYS[2], ttl) end
return h
`;
