import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * Keeps codes as HMACs only. The first secret signs new codes; every secret,
 * the previous ones included, is tried when a code is checked, so rotating the
 * secret does not break challenges already issued.
 */
export interface CodeHasher {
  /** The HMAC of a normalised code under the current secret, bound to the challenge id. */
  hash(challengeId: string, normalizedCode: string): string;
  /** The HMACs of a normalised code under every secret, current first. */
  candidates(challengeId: string, normalizedCode: string): string[];
  /**
   * The challenge id for an idempotency key: a UUID v4 in form, derived with
   * the current secret so that nobody can predict it, and the same for the
   * same key, which is what lets a store find the first challenge atomically.
   */
  idForIdempotencyKey(key: string): string;
}

/**
 * Creates a {@link CodeHasher} from the current secret followed by previous ones.
 *
 * @example
 * const hasher = createCodeHasher([process.env.OTP_HMAC_SECRET, ...previous]);
 */
export function createCodeHasher(secrets: readonly string[]): CodeHasher {
  if (secrets.length === 0) throw new Error("createCodeHasher needs at least one secret");
  const mac = (secret: string, id: string, code: string) =>
    createHmac("sha256", secret).update(`otp-code\0${id}\0${code}`).digest("base64url");
  return {
    hash: (id, code) => mac(secrets[0] as string, id, code),
    candidates: (id, code) => secrets.map((s) => mac(s, id, code)),
    idForIdempotencyKey(key) {
      const bytes = createHmac("sha256", secrets[0] as string)
        .update(`otp-idempotency\0${key}`)
        .digest()
        .subarray(0, 16);
      bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
      bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
      const hex = bytes.toString("hex");
      return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    },
  };
}

/** Compares two HMACs in constant time. */
export function hmacEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
