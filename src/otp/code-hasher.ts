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
  };
}

/** Compares two HMACs in constant time. */
export function hmacEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
