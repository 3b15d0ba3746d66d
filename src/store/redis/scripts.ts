import { readFileSync } from "node:fs";
import { challengeFieldNames } from "./challenge-fields.js";

/**
 * The Lua scripts behind every state change of a challenge. Each runs as one
 * atomic step on the one key (a hash) that holds the challenge, so Redis
 * Cluster can run it in the key's slot. Times come in as strings from Node,
 * never formatted by Lua, and every write keeps or sets the key's expiry.
 *
 * Steps mirror src/otp/challenge-transitions.ts; the shared store contract
 * tests hold both to the same behaviour.
 */

// Every script lives as a .lua file in scripts/ beside this module, read once at start
// (npm run build:service copies them beside the compiled module).
const lua = (name: string) => readFileSync(new URL(`./scripts/${name}`, import.meta.url), "utf8");
const charges = lua("charges.lua");

/**
 * Generate's one step: charges the call's limits and usage (charges.lua),
 * then stores the challenge unless its id exists (create.lua). Takes a
 * variable number of keys. The field names are written into the script, so
 * each call sends only the values.
 */
export const createScript = `${charges}local FIELDS = {${challengeFieldNames.map((n) => `'${n}'`).join(", ")}}\n${lua("create.lua")}`;

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
export const cancelScript = lua("cancel.lua");

/**
 * KEYS[1] challenge. ARGV[1] now ms, ARGV[2] new code HMAC, ARGV[3] cooldown
 * ms, ARGV[4] max sends, ARGV[5] retention ms. The new lifetime comes from
 * the challenge's own ttl, read here, so no separate read is needed. Returns
 * {"not_found"}, {"not_pending", fields...}, {"send_limit"}, {"cooldown",
 * retry-after ms} or {"replaced", fields...}.
 */
export const replaceCodeScript = lua("replace-code.lua");
/**
 * KEYS[1] challenge. ARGV[1] delivery attempts as JSON, ARGV[2] the accepted
 * deliveries added to the challenge's list. Writes only to an existing key.
 */
export const setDeliveryAttemptsScript = lua("set-delivery-attempts.lua");

/** KEYS[1] challenge. ARGV[1] now ms, ARGV[2] the timer's generation. Mirrors applyClaimFallback. */
export const fallbackClaimScript = lua("fallback-claim.lua");

/** KEYS[1] outbox list. ARGV[1] entry JSON, ARGV[2] max entries, ARGV[3] retention ms. */
export const appendOutboxScript = lua("append-outbox.lua");

/** KEYS[1] factor hash. ARGV[1] expire-at ms, ARGV[2..] field, value pairs. */
export const totpCreateScript = lua("totp-create.lua");

/**
 * KEYS[1] factor hash, KEYS[2] its recovery set. ARGV[1] now ms, ARGV[2]
 * step, ARGV[3] required state, ARGV[4] retain-until ms, ARGV[5..] recovery
 * code HMACs to store (ConfirmTotp). Mirrors applyTotpStep.
 */
export const totpUseStepScript = lua("totp-use-step.lua");

/**
 * KEYS[1] factor hash. ARGV[1] now ms, ARGV[2] max failures, ARGV[3]
 * locked-until ms should this failure start a lock-out. Mirrors applyTotpFailure.
 */
export const totpFailureScript = lua("totp-failure.lua");

/**
 * KEYS[1] factor hash, KEYS[2] its recovery set. ARGV[1] now ms, ARGV[2]
 * retain-until ms, ARGV[3..] candidate HMACs. Mirrors applyTotpRecovery.
 */
export const totpRecoveryScript = lua("totp-recovery.lua");

/**
 * KEYS[1] delivery hash, KEYS[2] its event list. ARGV[1] idempotency
 * fingerprint, ARGV[2] expire-at ms, ARGV[3] first event JSON, ARGV[4..] field,
 * value pairs. Returns {"created"}, {"conflict"} or {"replay"}.
 */
export const deliveryCreateScript = lua("delivery-create.lua");

/**
 * KEYS[1] delivery hash, KEYS[2] its event list. ARGV[1] event JSON, ARGV[2]
 * provider message id or empty, ARGV[3] delete-at ms or empty. Appends only
 * to an existing delivery. Returns {} for an unknown one, else {channel,
 * retain-until ms}, which the provider-id index needs.
 */
export const deliveryEventScript = lua("delivery-event.lua");
