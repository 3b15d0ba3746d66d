import { OtpError } from "../core/otp-error.js";

/** One factory per error the OTP domain raises; messages never include codes or recipients. */
export const otpErrors = {
  outOfRange: (
    reason: "TTL_INVALID" | "MAX_ATTEMPTS_INVALID" | "CODE_LENGTH_INVALID" | "PAGE_SIZE_INVALID",
    field: string,
    min: number,
    max: number,
  ) =>
    new OtpError(reason, `${field} must be 0 (the default) or between ${min} and ${max}`, {
      field,
      metadata: { min: String(min), max: String(max) },
    }),
  alphabetInvalid: () =>
    new OtpError("ALPHABET_INVALID", "alphabet is not a known Alphabet value", {
      field: "alphabet",
    }),
  bindingTooLarge: (maxBytes: number) =>
    new OtpError("BINDING_TOO_LARGE", `binding must serialise to at most ${maxBytes} bytes`, {
      field: "binding",
    }),
  targetsTooMany: (max: number) =>
    new OtpError("DELIVERY_TARGETS_TOO_MANY", `at most ${max} delivery targets are allowed`, {
      field: "delivery_targets",
    }),
  idempotencyKeyInvalid: () =>
    new OtpError(
      "IDEMPOTENCY_KEY_INVALID",
      "idempotency_key must be at most 255 printable ASCII characters",
      { field: "idempotency_key" },
    ),
  idempotencyKeyConflict: () =>
    new OtpError(
      "IDEMPOTENCY_KEY_CONFLICT",
      "idempotency_key was already used for a different request",
      { field: "idempotency_key" },
    ),
  idInvalid: () => new OtpError("ID_INVALID", "id must be a UUID", { field: "id" }),
  verifySubjectInvalid: () =>
    new OtpError("VERIFY_SUBJECT_INVALID", "give either id, or recipient with channel, not both", {
      field: "recipient",
    }),
  codeInvalid: () =>
    new OtpError("CODE_INVALID", "code must be between 1 and 256 characters", { field: "code" }),
  notFound: () => new OtpError("CHALLENGE_NOT_FOUND", "no challenge has this id"),
  notPending: (status: string) =>
    new OtpError("CHALLENGE_NOT_PENDING", `the challenge is ${status} and takes no new code`, {
      metadata: { status },
    }),
  resendCooldown: (retryAfterMs: number) =>
    new OtpError("RESEND_COOLDOWN", "a new code was sent too recently; retry later", {
      retryAfterMs,
    }),
  sendLimitReached: (maxSends: number) =>
    new OtpError("SEND_LIMIT_REACHED", `the challenge has had its ${maxSends} codes`, {
      metadata: { max_sends: String(maxSends) },
    }),
  rateLimited: (limit: string, retryAfterMs: number) =>
    new OtpError("RATE_LIMITED", "too many requests; retry later", {
      retryAfterMs,
      metadata: { limit },
    }),
  deliveryFailed: (channels: string[]) =>
    new OtpError("DELIVERY_FAILED", "no delivery target accepted the code", {
      metadata: { channels: channels.join(",") },
    }),
};
