import { createHmac, hkdfSync } from "node:crypto";

// Versioned, so a future derivation can sit beside this one.
const bindingKeyInfo = "otp-token-binding-hash/v1";

/**
 * The key under which a tenant's tokens prove their binding: HKDF-SHA256 of
 * the OTP HMAC secret, with an empty salt and the info
 * `"otp-token-binding-hash/v1" + "\0" + tenantId`, 32 bytes. The info label
 * keeps it apart from every other use of that secret, and the tenant id gives
 * each tenant its own key: an operator can hand a tenant's backend its key
 * (see `scripts/token-binding-key.ts`) without letting it confirm another
 * tenant's bindings, or learn the secret itself.
 *
 * @example
 * const key = deriveBindingKey(process.env.OTP_HMAC_SECRET, "ten_123");
 */
export function deriveBindingKey(secret: string, tenantId: string): Buffer {
  return Buffer.from(
    hkdfSync("sha256", secret, Buffer.alloc(0), `${bindingKeyInfo}\0${tenantId}`, 32),
  );
}

/**
 * A token's `otp.binding_hash`: base64url(HMAC-SHA256(key, canonical binding)),
 * where the canonical binding is its JSON with object keys sorted at every
 * depth; empty when there is no binding. Keyed, so that nobody without the
 * key can confirm a guessed binding (a session id, an amount, a phone number)
 * from a token.
 *
 * @example
 * bindingProof(deriveBindingKey(secret, "ten_123"), '{"session":"s-1"}');
 */
export function bindingProof(key: Buffer, canonicalBinding: string): string {
  if (canonicalBinding === "") return "";
  return createHmac("sha256", key).update(canonicalBinding).digest("base64url");
}
