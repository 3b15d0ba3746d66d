import { randomBytes } from "node:crypto";
import { sha256 } from "../core/sha256.js";

/** The two kinds of key, told apart by their prefix. */
export type ApiKeyKind = "secret" | "publishable";

const prefixes: Record<ApiKeyKind, string> = { secret: "otp_sk_", publishable: "otp_pk_" };

/** A freshly made key: the full secret, shown once, and what is stored. */
export interface NewApiKey {
  /** The whole key, e.g. `otp_sk_4f9c2a1b_<40 chars>`. */
  secret: string;
  /** The public part: kind prefix plus 8 hex characters, safe to show and log. */
  id: string;
  /** SHA-256 of the whole key: the only form the store keeps. */
  hash: string;
}

/**
 * Makes a key: a readable kind prefix, a short public id, and 240 bits from
 * `node:crypto`. Keys are stored only as a SHA-256 hash; with this much
 * entropy a plain hash is enough, and looking a key up by its hash leaks
 * nothing through timing about any stored key.
 *
 * @example
 * const key = generateApiKey("publishable"); // key.secret starts with "otp_pk_"
 */
export function generateApiKey(kind: ApiKeyKind): NewApiKey {
  const id = `${prefixes[kind]}${randomBytes(4).toString("hex")}`;
  const secret = `${id}_${randomBytes(30).toString("base64url")}`;
  return { secret, id, hash: hashApiKey(secret) };
}

/** The stored form of a key. */
export function hashApiKey(secret: string): string {
  return sha256(secret, "base64url");
}

/** Reads the kind and id from a presented key, or undefined when it is not one of ours. */
export function parseApiKey(secret: string): { kind: ApiKeyKind; id: string } | undefined {
  const match = /^(otp_sk_|otp_pk_)([0-9a-f]{8})_[A-Za-z0-9_-]{40}$/.exec(secret);
  if (match === null) return undefined;
  return {
    kind: match[1] === "otp_sk_" ? "secret" : "publishable",
    id: `${match[1]}${match[2]}`,
  };
}
