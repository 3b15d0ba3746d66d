import type { AlphabetName } from "../../otp/alphabets.js";
import type { ChallengeRecord } from "../../otp/challenge-store.js";
import type { RecipientCodec } from "./recipient-codec.js";

/** A challenge's key: the hash tag keeps every key of a challenge in one Cluster slot. */
export function challengeKey(keyPrefix: string, id: string): string {
  return `${keyPrefix}challenge:{${id}}`;
}

/**
 * Puts a challenge id's hash tag into a counter's key, so that in a Cluster
 * the counter shares the challenge's slot: `default:<uuid>` becomes
 * `default:{<uuid>}`, and a key without the id gets the tag appended.
 */
export function tagChallenge(key: string, id: string): string {
  return key.endsWith(id) ? `${key.slice(0, -id.length)}{${id}}` : `${key}:{${id}}`;
}

/**
 * The hash fields a new challenge is written with, in the order of
 * {@link toFieldValues}. create.lua holds this list (scripts.ts writes it in),
 * so Generate sends only the values: a third fewer arguments to build,
 * copy and write on every call.
 */
export const challengeFieldNames = [
  "code_hmac",
  "binding_hash",
  "alphabet",
  "code_length",
  "ttl",
  "max_attempts",
  "attempts",
  "state",
  "created_at",
  "expires_at",
  "verified_at",
  "sends",
  "last_sent_at",
  "retain_until",
  "targets",
  "delivery_attempts",
  "tenant",
  "idem_fp",
  "locale",
  "sealed_code",
  "fallback_gen",
] as const;

/** A challenge record's field values, in {@link challengeFieldNames} order. */
export function toFieldValues(record: ChallengeRecord, codec: RecipientCodec): string[] {
  return [
    record.codeHmac,
    record.bindingHash,
    record.alphabet,
    String(record.codeLength),
    String(record.ttlSeconds),
    String(record.maxAttempts),
    String(record.attempts),
    record.state,
    String(record.createdAtMs),
    String(record.expiresAtMs),
    String(record.verifiedAtMs),
    String(record.sends),
    String(record.lastSentAtMs),
    String(record.retainUntilMs),
    codec.sealTargets(record.id, record.targets),
    JSON.stringify(record.deliveryAttempts),
    record.tenantId ?? "",
    record.idempotencyFingerprint,
    record.locale ?? "",
    record.sealedCode ?? "",
    String(record.fallbackGen ?? 0),
  ];
}

/** A challenge record from a script's flat field/value reply. */
export function fromFields(id: string, flat: string[], codec: RecipientCodec): ChallengeRecord {
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return recordFrom(id, fields, codec);
}

/** A challenge record from its hash. */
export function recordFrom(
  id: string,
  f: Record<string, string>,
  codec: RecipientCodec,
): ChallengeRecord {
  const num = (name: string) => Number(f[name] ?? "0");
  // One shape for every record: the optional fields are set after, not
  // spread in (each spread built and copied an object, on every Verify).
  const record: ChallengeRecord = {
    id,
    codeHmac: f.code_hmac ?? "",
    bindingHash: f.binding_hash ?? "",
    alphabet: (f.alphabet ?? "numeric") as AlphabetName,
    codeLength: num("code_length"),
    ttlSeconds: num("ttl"),
    maxAttempts: num("max_attempts"),
    attempts: num("attempts"),
    state: (f.state ?? "pending") as ChallengeRecord["state"],
    createdAtMs: num("created_at"),
    expiresAtMs: num("expires_at"),
    verifiedAtMs: num("verified_at"),
    sends: num("sends"),
    lastSentAtMs: num("last_sent_at"),
    retainUntilMs: num("retain_until"),
    targets: codec.openTargets(id, f.targets ?? "[]"),
    deliveryAttempts: parseList(f.delivery_attempts),
    idempotencyFingerprint: f.idem_fp ?? "",
  };
  if (f.tenant) record.tenantId = f.tenant;
  if (f.locale) record.locale = f.locale;
  if (f.sealed_code) record.sealedCode = f.sealed_code;
  if (f.fallback_gen !== undefined && f.fallback_gen !== "0") {
    record.fallbackGen = num("fallback_gen");
  }
  if (f.sent_deliveries) record.sentDeliveries = parseList(f.sent_deliveries);
  return record;
}

// A JSON list field; the empty list, the usual value, without the parser.
function parseList<T>(json: string | undefined): T[] {
  return json === undefined || json === "[]" ? [] : (JSON.parse(json) as T[]);
}
