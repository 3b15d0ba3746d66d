import { randomBytes } from "node:crypto";
import type { JWK } from "jose";
import { type Area, type Context, parsed, splitList, text, type Values } from "./schema.js";

/**
 * Decodes a 32-byte key written as 64 hex digits or base64. Throws saying
 * what is accepted, never echoing the key.
 *
 * @example
 * decodeKey("00".repeat(32)).length; // 32
 */
export function decodeKey(value: string): Buffer {
  const key = /^[0-9a-fA-F]{64}$/.test(value)
    ? Buffer.from(value, "hex")
    : Buffer.from(value, "base64");
  if (key.length !== 32) {
    throw new Error("must be 32 bytes, as 64 hex digits or base64 (e.g. openssl rand -base64 32)");
  }
  return key;
}

/**
 * Parses `TOKEN_SIGNING_KEYS`: a JSON array (or one object) of private
 * Ed25519 (OKP) or P-256 (EC) JWKs, current first. Throws without echoing.
 */
export function parseSigningKeys(value: string): JWK[] {
  const shape = "must be a JSON array of private Ed25519 (OKP) or P-256 (EC) JWKs, current first";
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new Error(shape);
  }
  const list: unknown[] = Array.isArray(parsed) ? parsed : [parsed];
  const valid = (k: unknown): k is JWK =>
    typeof k === "object" &&
    k !== null &&
    typeof (k as JWK).d === "string" &&
    (((k as JWK).kty === "OKP" && (k as JWK).crv === "Ed25519") ||
      ((k as JWK).kty === "EC" && (k as JWK).crv === "P-256"));
  if (list.length === 0 || !list.every(valid)) throw new Error(shape);
  return list as JWK[];
}

const secrets =
  <T>(parse: (value: string) => T) =>
  (value: string): T[] =>
    splitList(value).map((s) => parse(s));

const atLeast32 = (value: string) => {
  if (value.length < 32) throw new Error("every secret must be at least 32 characters");
  return value;
};

/** Secrets and keys: all of them rotatable, none ever echoed. */
export const secretVariables = {
  OTP_HMAC_SECRET: text({
    secret: true,
    minLength: 32,
    defaultText: "random per process (development)",
    requiredInProduction: "at least 32 characters",
    requiredWithRedis: "so that codes survive restarts and every instance checks them alike",
    description:
      "The HMAC key for codes, recovery codes and idempotency ids, and the source of the keys that hash and seal recipients in Redis. Make one with `openssl rand -hex 32`.",
  }),
  OTP_HMAC_PREVIOUS_SECRETS: parsed(secrets(atLeast32), {
    type: "secret list",
    secret: true,
    defaultText: "none",
    allowed: "comma-separated, each at least 32 characters",
    needs: ["OTP_HMAC_SECRET"],
    description:
      "Older HMAC keys, still accepted for verification: move the old `OTP_HMAC_SECRET` here when rotating.",
  }),
  TOTP_ENCRYPTION_KEY: parsed(decodeKey, {
    type: "secret",
    secret: true,
    defaultText: "random per process (development)",
    allowed: "32 bytes, as 64 hex digits or base64",
    requiredInProduction: "32 bytes, base64 or hex",
    requiredWithRedis: "so that factors survive restarts",
    description:
      "The AES-256-GCM key for TOTP secrets at rest. Make one with `openssl rand -base64 32`.",
  }),
  TOTP_PREVIOUS_ENCRYPTION_KEYS: parsed(secrets(decodeKey), {
    type: "secret list",
    secret: true,
    defaultText: "none",
    allowed: "comma-separated keys, each 32 bytes as hex or base64",
    description: "Older TOTP keys that still open secrets sealed under them.",
  }),
  TOKEN_SIGNING_KEYS: parsed(parseSigningKeys, {
    type: "JSON",
    secret: true,
    defaultText: "one Ed25519 key per process (development)",
    allowed: "a JSON array of private Ed25519 (`OKP`) or P-256 (`EC`) JWKs, current first",
    requiredInProduction: "a JSON array of private JWKs",
    description:
      "The keys that sign verification tokens: the first signs, all are published at `/.well-known/jwks.json`. A single JWK object is accepted too. Required with `WORKERS` > 1, so every process signs with the same key. To rotate, put the new key first and keep the old one for at least `TOKEN_TTL_SECONDS`.",
  }),
  ADMIN_TOKEN: text({
    secret: true,
    minLength: 32,
    defaultText: "unset (tenant and key management off)",
    description:
      "The admin credential for `AdminService` (tenants, API keys, any tenant's usage), such as `openssl rand -hex 32`.",
  }),
};

/** The secrets area of the reference. */
export const secretsArea: Area = {
  title: "Secrets and keys",
  summary:
    "Keep these in a secret store and give every instance and worker the same values. A problem with one names the variable but never echoes its value. Each has a way to rotate without breaking what it already protects.",
  variables: secretVariables,
};

/** The secrets part of {@link Config}. */
export interface SecretsConfig {
  /** The current HMAC secret first, then previous ones still accepted for verification. */
  hmacSecrets: string[];
  /** True when no secret was configured and a random one was made for this process. */
  hmacSecretGenerated: boolean;
  /** The credential AdminService takes; undefined disables AdminService. */
  adminToken: string | undefined;
  /** AES-256-GCM keys for TOTP secrets at rest, current first. */
  totpEncryptionKeys: Buffer[];
  totpEncryptionKeyGenerated: boolean;
  /** Private JWKs, current first; undefined means generate one at start (development only). */
  signingKeys: JWK[] | undefined;
}

/** Builds the secrets, making random ones where development allows. */
export function readSecrets(v: Values<typeof secretVariables>, _ctx: Context): SecretsConfig {
  const secret = v.OTP_HMAC_SECRET;
  const totpKeys = [
    ...(v.TOTP_ENCRYPTION_KEY === undefined ? [] : [v.TOTP_ENCRYPTION_KEY]),
    ...(v.TOTP_PREVIOUS_ENCRYPTION_KEYS ?? []),
  ];
  return {
    hmacSecrets:
      secret === undefined
        ? [randomBytes(32).toString("base64url")]
        : [secret, ...(v.OTP_HMAC_PREVIOUS_SECRETS ?? [])],
    hmacSecretGenerated: secret === undefined,
    adminToken: v.ADMIN_TOKEN,
    totpEncryptionKeys: totpKeys.length > 0 ? totpKeys : [randomBytes(32)],
    totpEncryptionKeyGenerated: v.TOTP_ENCRYPTION_KEY === undefined,
    signingKeys: v.TOKEN_SIGNING_KEYS,
  };
}
