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

// The fields a record is read from: those a challenge is created with, and
// the one its deliveries add later. A field is found by its place here.
const readFields = [...challengeFieldNames, "sent_deliveries"] as const;
type ReadField = (typeof readFields)[number];
const placeOf = new Map<string, number>(readFields.map((name, i) => [name, i]));
const at = Object.fromEntries(readFields.map((name, i) => [name, i])) as Record<ReadField, number>;

/**
 * A challenge record from a script's flat field/value reply, read from
 * `from` on (a reply's status comes first; no copy of the rest is made).
 * Each value goes to its field's place in an array, not onto an object by
 * name: a fifth of the time, on every Verify.
 */
export function fromFields(
  id: string,
  flat: readonly string[],
  codec: RecipientCodec,
  from = 0,
): ChallengeRecord {
  const values = new Array<string | undefined>(readFields.length);
  for (let i = from; i + 1 < flat.length; i += 2) {
    const place = placeOf.get(flat[i] as string);
    if (place !== undefined) values[place] = flat[i + 1];
  }
  return recordOf(id, values, codec);
}

/** A challenge record from its hash. */
export function recordFrom(
  id: string,
  f: Record<string, string>,
  codec: RecipientCodec,
): ChallengeRecord {
  return recordOf(
    id,
    readFields.map((name) => f[name]),
    codec,
  );
}

// A record from its field values in readFields order (undefined: not in the hash).
function recordOf(id: string, v: (string | undefined)[], codec: RecipientCodec): ChallengeRecord {
  const num = (field: ReadField) => Number(v[at[field]] ?? "0");
  // One shape for every record: the optional fields are set after, not
  // spread in (each spread built and copied an object, on every Verify).
  const record: ChallengeRecord = {
    id,
    codeHmac: v[at.code_hmac] ?? "",
    bindingHash: v[at.binding_hash] ?? "",
    alphabet: (v[at.alphabet] ?? "numeric") as AlphabetName,
    codeLength: num("code_length"),
    ttlSeconds: num("ttl"),
    maxAttempts: num("max_attempts"),
    attempts: num("attempts"),
    state: (v[at.state] ?? "pending") as ChallengeRecord["state"],
    createdAtMs: num("created_at"),
    expiresAtMs: num("expires_at"),
    verifiedAtMs: num("verified_at"),
    sends: num("sends"),
    lastSentAtMs: num("last_sent_at"),
    retainUntilMs: num("retain_until"),
    targets: codec.openTargets(id, v[at.targets] ?? "[]"),
    deliveryAttempts: parseList(v[at.delivery_attempts]),
    idempotencyFingerprint: v[at.idem_fp] ?? "",
  };
  const tenant = v[at.tenant];
  if (tenant) record.tenantId = tenant;
  const locale = v[at.locale];
  if (locale) record.locale = locale;
  const sealedCode = v[at.sealed_code];
  if (sealedCode) record.sealedCode = sealedCode;
  const fallbackGen = v[at.fallback_gen];
  if (fallbackGen !== undefined && fallbackGen !== "0") record.fallbackGen = Number(fallbackGen);
  const sent = v[at.sent_deliveries];
  if (sent) record.sentDeliveries = parseList(sent);
  return record;
}

// A JSON list field; the empty list, the usual value, without the parser.
function parseList<T>(json: string | undefined): T[] {
  return json === undefined || json === "[]" ? [] : (JSON.parse(json) as T[]);
}
