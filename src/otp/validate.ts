import type { ChannelKind } from "../core/channel-kind.js";
import {
  type GeoReport,
  type TargetRules,
  validateLocale,
  validateTarget,
} from "../delivery/targets.js";
import type { EffectiveSettings } from "../tenancy/effective-settings.js";
import { type AlphabetName, defaultCodeLength } from "./alphabets.js";
import { canonicalJson, type JsonValue } from "./binding-hash.js";
import type { TargetRecord } from "./challenge-store.js";
import { otpErrors } from "./errors.js";

/** Generate's input in plain types; "invalid" marks an enum value the service does not know. */
export interface GenerateInput {
  ttlSeconds: number;
  maxAttempts: number;
  codeLength: number;
  /** Undefined when the request left it unset: the tenant's default, else numeric. */
  alphabet: AlphabetName | "invalid" | undefined;
  binding: { [key: string]: JsonValue } | undefined;
  targets: {
    channel: ChannelKind | "invalid";
    recipient: string;
    selfDestructSeconds: number;
    fallbackAfterSeconds?: number;
  }[];
  idempotencyKey: string;
  /** The language of the messages, for example "es"; empty for the default. */
  locale?: string;
}

/** Generate's input after validation, with defaults filled in. */
export interface ValidGenerateInput {
  ttlSeconds: number;
  maxAttempts: number;
  codeLength: number;
  alphabet: AlphabetName;
  binding: { [key: string]: JsonValue } | undefined;
  /** Recipients in canonical form (E.164 phone numbers), Telegram self-destruct defaults filled in. */
  targets: TargetRecord[];
  idempotencyKey: string;
  /** Lower case with hyphens; empty for the default. */
  locale: string;
}

/** The limits the contract fixes. */
export const limits = {
  ttlSeconds: { default: 60, min: 1, max: 3600 },
  maxAttempts: { default: 5, min: 1, max: 60 },
  codeLength: { min: 4, max: 10 },
  maxTargets: 5,
  bindingMaxBytes: 4096,
  idempotencyKeyMaxLength: 255,
  codeMaxLength: 256,
} as const;

const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Tells whether `id` has the form of a UUID, which every id the service issues has. */
export function isUuid(id: string): boolean {
  return uuid.test(id);
}

/**
 * Checks Generate's input and fills in defaults: the tenant's (`settings`)
 * where it set them, else the service's. Out-of-range values are refused,
 * never clamped. `rules` say which channels and recipients this service
 * takes; the tenant's settings may narrow them (`onGeoReport` hears of what a
 * report-only geo permission let through).
 */
export function validateGenerate(
  input: GenerateInput,
  rules: TargetRules,
  settings?: EffectiveSettings,
  onGeoReport?: GeoReport,
): ValidGenerateInput {
  const ttlSeconds = inRange(
    input.ttlSeconds || (settings?.ttlSeconds ?? 0),
    limits.ttlSeconds,
    "TTL_INVALID",
    "ttl_seconds",
  );
  const maxAttempts = inRange(
    input.maxAttempts || (settings?.maxAttempts ?? 0),
    limits.maxAttempts,
    "MAX_ATTEMPTS_INVALID",
    "max_attempts",
  );
  if (input.alphabet === "invalid") throw otpErrors.alphabetInvalid();
  const alphabet = input.alphabet ?? settings?.alphabet ?? "numeric";
  // A tenant's default length is for its default alphabet: another alphabet asked for keeps its own default.
  const lengthDefault =
    input.alphabet === undefined || input.alphabet === settings?.alphabet
      ? (settings?.codeLength ?? 0)
      : 0;
  const codeLength = inRange(
    input.codeLength || lengthDefault,
    {
      min: limits.codeLength.min,
      max: limits.codeLength.max,
      default: defaultCodeLength(alphabet),
    },
    "CODE_LENGTH_INVALID",
    "code_length",
  );
  if (
    input.binding !== undefined &&
    Buffer.byteLength(canonicalJson(input.binding)) > limits.bindingMaxBytes
  ) {
    throw otpErrors.bindingTooLarge(limits.bindingMaxBytes);
  }
  if (input.targets.length > limits.maxTargets) throw otpErrors.targetsTooMany(limits.maxTargets);
  const targets = input.targets.map((target, index) =>
    validateTarget(target, rules, `delivery_targets[${index}].`, settings, onGeoReport),
  );
  validateIdempotencyKey(input.idempotencyKey);
  const locale = validateLocale(input.locale ?? "");
  return {
    ttlSeconds,
    maxAttempts,
    codeLength,
    alphabet,
    binding: input.binding,
    targets,
    idempotencyKey: input.idempotencyKey,
    locale,
  };
}

/** Refuses an id that is not a UUID, before any store lookup. */
export function validateId(id: string): string {
  if (!uuid.test(id)) throw otpErrors.idInvalid();
  return id.toLowerCase();
}

/** Refuses an empty or oversized code; any other string is checked against the challenge. */
export function validateCode(code: string): string {
  if (code.trim().length === 0 || code.length > limits.codeMaxLength) throw otpErrors.codeInvalid();
  return code;
}

/** Refuses an idempotency key longer than 255 characters or outside printable ASCII. */
export function validateIdempotencyKey(key: string): void {
  if (key.length > limits.idempotencyKeyMaxLength || !/^[\x20-\x7e]*$/.test(key)) {
    throw otpErrors.idempotencyKeyInvalid();
  }
}

function inRange(
  value: number,
  range: { default: number; min: number; max: number },
  reason: "TTL_INVALID" | "MAX_ATTEMPTS_INVALID" | "CODE_LENGTH_INVALID",
  field: string,
): number {
  if (value === 0) return range.default;
  if (!Number.isInteger(value) || value < range.min || value > range.max) {
    throw otpErrors.outOfRange(reason, field, range.min, range.max);
  }
  return value;
}
