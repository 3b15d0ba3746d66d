import { Code } from "@connectrpc/connect";

/**
 * The one table of error reasons. Every error a client can see carries one of
 * these reasons in a `google.rpc.ErrorInfo` detail, and the reason alone
 * decides the Connect code.
 */
export const reasonCodes = {
  // The request itself: unreadable, oversized, or in an encoding not served.
  REQUEST_MALFORMED: Code.InvalidArgument,
  REQUEST_TOO_LARGE: Code.ResourceExhausted,
  ENCODING_UNSUPPORTED: Code.Unimplemented,
  // Generate input.
  TTL_INVALID: Code.InvalidArgument,
  MAX_ATTEMPTS_INVALID: Code.InvalidArgument,
  CODE_LENGTH_INVALID: Code.InvalidArgument,
  ALPHABET_INVALID: Code.InvalidArgument,
  BINDING_TOO_LARGE: Code.InvalidArgument,
  DELIVERY_TARGETS_TOO_MANY: Code.InvalidArgument,
  CHANNEL_INVALID: Code.InvalidArgument,
  RECIPIENT_INVALID: Code.InvalidArgument,
  SELF_DESTRUCT_INVALID: Code.InvalidArgument,
  IDEMPOTENCY_KEY_INVALID: Code.InvalidArgument,
  PAGE_SIZE_INVALID: Code.InvalidArgument,
  // Delivery input.
  COUNTRY_NOT_ALLOWED: Code.InvalidArgument,
  NUMBER_TYPE_NOT_ALLOWED: Code.InvalidArgument,
  LOCALE_INVALID: Code.InvalidArgument,
  CONTENT_INVALID: Code.InvalidArgument,
  ACCOUNT_ID_INVALID: Code.InvalidArgument,
  DELIVERY_NOT_FOUND: Code.NotFound,
  // TOTP input.
  ACCOUNT_NAME_INVALID: Code.InvalidArgument,
  ISSUER_INVALID: Code.InvalidArgument,
  TOTP_FACTOR_NOT_FOUND: Code.NotFound,
  TOTP_ALREADY_CONFIRMED: Code.FailedPrecondition,
  // Verify and lookup input.
  ID_INVALID: Code.InvalidArgument,
  CODE_INVALID: Code.InvalidArgument,
  CHALLENGE_NOT_FOUND: Code.NotFound,
  // State that forbids the call.
  CHALLENGE_NOT_PENDING: Code.FailedPrecondition,
  IDEMPOTENCY_KEY_CONFLICT: Code.AlreadyExists,
  CHANNEL_NOT_CONFIGURED: Code.FailedPrecondition,
  OUTBOX_DISABLED: Code.FailedPrecondition,
  // Credentials.
  UNAUTHENTICATED: Code.Unauthenticated,
  PERMISSION_DENIED: Code.PermissionDenied,
  TENANT_NOT_FOUND: Code.NotFound,
  API_KEY_NOT_FOUND: Code.NotFound,
  API_KEY_INVALID: Code.InvalidArgument,
  TENANT_NAME_INVALID: Code.InvalidArgument,
  // Limits.
  RESEND_COOLDOWN: Code.ResourceExhausted,
  SEND_LIMIT_REACHED: Code.ResourceExhausted,
  RATE_LIMITED: Code.ResourceExhausted,
  // Failures outside the caller's control.
  DELIVERY_FAILED: Code.Unavailable,
  STORE_UNAVAILABLE: Code.Unavailable,
  SHUTTING_DOWN: Code.Unavailable,
  INTERNAL: Code.Internal,
} as const satisfies Record<string, Code>;

/** A machine-readable error reason, in UPPER_SNAKE_CASE. */
export type Reason = keyof typeof reasonCodes;

/** The domain every reason belongs to, as sent in `ErrorInfo.domain`. */
export const errorDomain = "otp.v1";
