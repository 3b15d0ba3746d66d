/**
 * Every reason the service puts in an error's `google.rpc.ErrorInfo` detail
 * (domain `otp.v1`), so that code can branch on a reason instead of a message.
 * A newer service may send a reason missing from this list; {@link OtpError}
 * still carries it as a plain string.
 *
 * @example
 * otpErrorReasons.includes("RATE_LIMITED"); // true
 */
export const otpErrorReasons = [
  // The request itself: unreadable, oversized, or in an encoding not served.
  "REQUEST_MALFORMED",
  "REQUEST_TOO_LARGE",
  "ENCODING_UNSUPPORTED",
  // The request was malformed or out of range.
  "TTL_INVALID",
  "MAX_ATTEMPTS_INVALID",
  "CODE_LENGTH_INVALID",
  "ALPHABET_INVALID",
  "BINDING_TOO_LARGE",
  "DELIVERY_TARGETS_TOO_MANY",
  "CHANNEL_INVALID",
  "RECIPIENT_INVALID",
  "SELF_DESTRUCT_INVALID",
  "FALLBACK_AFTER_INVALID",
  "IDEMPOTENCY_KEY_INVALID",
  "PAGE_SIZE_INVALID",
  "COUNTRY_NOT_ALLOWED",
  "NUMBER_TYPE_NOT_ALLOWED",
  "LOCALE_INVALID",
  "CONTENT_INVALID",
  "ACCOUNT_ID_INVALID",
  "ACCOUNT_NAME_INVALID",
  "ISSUER_INVALID",
  "ID_INVALID",
  "CODE_INVALID",
  // The challenge, delivery or TOTP factor does not exist, or its state forbids the call.
  "CHALLENGE_NOT_FOUND",
  "DELIVERY_NOT_FOUND",
  "TOTP_FACTOR_NOT_FOUND",
  "TOTP_ALREADY_CONFIRMED",
  "CHALLENGE_NOT_PENDING",
  "IDEMPOTENCY_KEY_CONFLICT",
  "CHANNEL_NOT_CONFIGURED",
  "OUTBOX_DISABLED",
  // Credentials and tenants.
  "UNAUTHENTICATED",
  "PERMISSION_DENIED",
  "TENANT_NOT_FOUND",
  "API_KEY_NOT_FOUND",
  "API_KEY_INVALID",
  "TENANT_NAME_INVALID",
  "TENANT_SUSPENDED",
  "API_KEY_EXPIRED",
  // The audit trail.
  "PAGE_TOKEN_INVALID",
  "AUDIT_FILTER_INVALID",
  // Webhooks and events.
  "WEBHOOK_ENDPOINT_NOT_FOUND",
  "WEBHOOK_ENDPOINT_INVALID",
  "WEBHOOK_ENDPOINT_LIMIT",
  "WEBHOOK_MESSAGE_NOT_FOUND",
  "EVENT_FILTER_INVALID",
  "WATCH_LAGGING",
  // The console's data.
  "ACTIVITY_QUERY_INVALID",
  // A limit was reached; the error says how long to wait.
  "ACTIVITY_WATCHERS_EXHAUSTED",
  "RESEND_COOLDOWN",
  "SEND_LIMIT_REACHED",
  "RATE_LIMITED",
  // Tenant settings, and what they refuse.
  "TENANT_SETTINGS_INVALID",
  "TEMPLATE_CODE_MISSING",
  "UPDATE_MASK_INVALID",
  "CHANNEL_NOT_ALLOWED",
  "RATE_LIMIT_KEY_INVALID",
  "VERIFY_SUBJECT_INVALID",
  "FRAUD_SUSPECTED",
  // Failures outside the caller's control.
  "DELIVERY_FAILED",
  "STORE_UNAVAILABLE",
  "SHUTTING_DOWN",
  "INTERNAL",
] as const;

/**
 * A reason the service may give for an error, in UPPER_SNAKE_CASE.
 *
 * @example
 * const reason: OtpErrorReason = "RESEND_COOLDOWN";
 */
export type OtpErrorReason = (typeof otpErrorReasons)[number];

/**
 * The `ErrorInfo.domain` of every error the service raises on purpose.
 *
 * @example
 * err.findDetails(ErrorInfoSchema)[0]?.domain === otpErrorDomain;
 */
export const otpErrorDomain = "otp.v1";
