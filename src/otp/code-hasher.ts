import { createHmac, createSecretKey, type KeyObject, timingSafeEqual } from "node:crypto";

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
   * `space` names the caller's idempotency space (core/tenant-scope.ts
   * `idempotencySpace`): two tenants using one key get two ids.
   */
  idForIdempotencyKey(key: string, space?: string): string;
  /**
   * The delivery id for a `DeliveryService.Send` idempotency key: like
   * {@link idForIdempotencyKey}, under a distinct prefix, so the same key
   * used for Generate and for Send names two different records.
   */
  deliveryIdForIdempotencyKey(key: string, space?: string): string;
  /**
   * A keyed hash of `data` for `purpose`, under the current secret: for
   * request fingerprints and store keys that must not reveal what they hash
   * (a plain SHA-256 of a request holding a 6-digit code, or of a phone
   * number, is reversed by trying every value).
   */
  digest(purpose: string, data: string): string;
  /** {@link digest} under every secret, current first, for lookups that must survive a rotation. */
  digests(purpose: string, data: string): string[];
}

/**
 * Creates a {@link CodeHasher} from the current secret followed by previous ones.
 *
 * @example
 * const hasher = createCodeHasher([process.env.OTP_HMAC_SECRET, ...previous]);
 */
export function createCodeHasher(secrets: readonly string[]): CodeHasher {
  if (secrets.length === 0) throw new Error("createCodeHasher needs at least one secret");
  // Imported once: a string key is copied into a new buffer on every HMAC.
  const keys = secrets.map((s) => createSecretKey(Buffer.from(s, "utf8")));
  const current = keys[0] as KeyObject;
  // Two tenants (or a tenant's servers and its browser keys) using the same
  // idempotency key get two ids, never each other's record.
  const scoped = (key: string, space: string | undefined) =>
    space === undefined ? key : `${space}\0${key}`;
  const mac = (secret: KeyObject, id: string, code: string) =>
    createHmac("sha256", secret).update(`otp-code\0${id}\0${code}`).digest("base64url");
  return {
    hash: (id, code) => mac(current, id, code),
    candidates: (id, code) => keys.map((k) => mac(k, id, code)),
    idForIdempotencyKey: (key, space) =>
      uuidFrom(current, `otp-idempotency\0${scoped(key, space)}`),
    deliveryIdForIdempotencyKey: (key, space) =>
      uuidFrom(current, `otp-send-idempotency\0${scoped(key, space)}`),
    digest: (purpose, data) => keyed(current, purpose, data),
    digests: (purpose, data) => keys.map((k) => keyed(k, purpose, data)),
  };
}

function keyed(secret: KeyObject, purpose: string, data: string): string {
  return createHmac("sha256", secret).update(`otp-${purpose}\0${data}`).digest("base64url");
}

// A UUID v4 in form, from the first 16 bytes of an HMAC.
function uuidFrom(secret: KeyObject, data: string): string {
  const bytes = createHmac("sha256", secret).update(data).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x40; // version 4
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80; // RFC 4122 variant
  const hex = bytes.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Compares two HMACs in constant time. */
export function hmacEquals(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
