// Over 300 lines because it is the one reason table (DESIGN.md): every reason
// a client can see, its Connect code and its description, in one place that
// docs/errors.md is generated from; splitting it would make two tables.
import { Code } from "@connectrpc/connect";

/** A reason's row in {@link reasons}: the Connect code it decides, and what it means. */
export interface ReasonEntry {
  code: Code;
  /** One line for docs/errors.md: when a client meets this reason. */
  description: string;
}

/**
 * The one table of error reasons. Every error a client can see carries one of
 * these reasons in a `google.rpc.ErrorInfo` detail, and the reason alone
 * decides the Connect code. docs/errors.md is generated from this table
 * (`npm run docs`).
 */
export const reasons = {
  // The request itself: unreadable, oversized, or in an encoding not served.
  REQUEST_MALFORMED: {
    code: Code.InvalidArgument,
    description:
      "The request could not be read: a broken body, unknown JSON fields or enum names (the field is named).",
  },
  REQUEST_TOO_LARGE: {
    code: Code.ResourceExhausted,
    description: "The request message is over `MAX_REQUEST_BYTES`, before or after decompression.",
  },
  ENCODING_UNSUPPORTED: {
    code: Code.Unimplemented,
    description: "The request is compressed with an encoding the service does not serve.",
  },
  // Generate input.
  TTL_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate: `ttl_seconds` out of range (`min`, `max` in the metadata).",
  },
  MAX_ATTEMPTS_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate: `max_attempts` out of range (`min`, `max` in the metadata).",
  },
  CODE_LENGTH_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate: `code_length` out of range (`min`, `max` in the metadata).",
  },
  ALPHABET_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate: an unknown `alphabet`.",
  },
  BINDING_TOO_LARGE: {
    code: Code.InvalidArgument,
    description: "Generate: the `binding` is too large.",
  },
  DELIVERY_TARGETS_TOO_MANY: {
    code: Code.InvalidArgument,
    description: "Generate: more delivery targets than allowed.",
  },
  CHANNEL_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate or Send: a channel that is not one of the service's channels.",
  },
  RECIPIENT_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate or Send: a recipient that is not valid for its channel.",
  },
  SELF_DESTRUCT_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate or Send: a self-destruct that is not 0, or not 5..86400 on Telegram.",
  },
  FALLBACK_AFTER_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate: a target's `fallback_after_seconds` that is not 0 or 1..3600.",
  },
  IDEMPOTENCY_KEY_INVALID: {
    code: Code.InvalidArgument,
    description:
      "Generate or Send: an idempotency key over 255 characters, or not printable ASCII.",
  },
  PAGE_SIZE_INVALID: {
    code: Code.InvalidArgument,
    description: "ListOutbox `page_size` or GetUsage `days` out of range.",
  },
  // Delivery input.
  COUNTRY_NOT_ALLOWED: {
    code: Code.InvalidArgument,
    description:
      "An SMS, WhatsApp, voice or Telegram Gateway number outside the allowed countries (`SMS_ALLOWED_COUNTRIES`, `WHATSAPP_ALLOWED_COUNTRIES`).",
  },
  NUMBER_TYPE_NOT_ALLOWED: {
    code: Code.InvalidArgument,
    description: "A phone number of a blocked type (premium rate, fixed line, ...).",
  },
  LOCALE_INVALID: {
    code: Code.InvalidArgument,
    description: "Generate or Send: `locale` is not a language tag such as `en` or `de-AT`.",
  },
  CONTENT_INVALID: {
    code: Code.InvalidArgument,
    description:
      "Send: neither `text` (1..4096 characters) nor `otp` (a code of 4..64 printable characters, `ttl_seconds` 1..86400).",
  },
  ACCOUNT_ID_INVALID: {
    code: Code.InvalidArgument,
    description: "CreateTelegramLink: not 1..128 characters of `A-Z a-z 0-9 . _ : @ -`.",
  },
  DELIVERY_NOT_FOUND: {
    code: Code.NotFound,
    description:
      "GetDelivery, WatchDelivery: an unknown id, or one forgotten after `DELIVERY_RETENTION_SECONDS`.",
  },
  // TOTP input.
  ACCOUNT_NAME_INVALID: {
    code: Code.InvalidArgument,
    description:
      "EnrollTotp: an account name not 1..128 characters, or with a `:`, a control character, a line break or a bidirectional override.",
  },
  ISSUER_INVALID: {
    code: Code.InvalidArgument,
    description:
      "EnrollTotp: an issuer over 64 characters, or with a `:`, a control character, a line break or a bidirectional override.",
  },
  TOTP_FACTOR_NOT_FOUND: {
    code: Code.NotFound,
    description: "An unknown or deleted TOTP factor, or one left pending past `confirm_before`.",
  },
  TOTP_ALREADY_CONFIRMED: {
    code: Code.FailedPrecondition,
    description: "ConfirmTotp on a factor that is already active.",
  },
  // Verify and lookup input.
  ID_INVALID: {
    code: Code.InvalidArgument,
    description: "A challenge, factor or delivery id that is not a UUID.",
  },
  CODE_INVALID: {
    code: Code.InvalidArgument,
    description:
      "An empty code, or one over 256 characters (64 for TOTP). A wrong code is not an error.",
  },
  CHALLENGE_NOT_FOUND: {
    code: Code.NotFound,
    description:
      "An unknown challenge id, another tenant's, or one forgotten after `CHALLENGE_RETENTION_SECONDS`.",
  },
  // State that forbids the call.
  CHALLENGE_NOT_PENDING: {
    code: Code.FailedPrecondition,
    description:
      "Resend (or an idempotent replay) on a finished challenge (`status` in the metadata).",
  },
  IDEMPOTENCY_KEY_CONFLICT: {
    code: Code.AlreadyExists,
    description: "An idempotency key reused for a different request.",
  },
  CHANNEL_NOT_CONFIGURED: {
    code: Code.FailedPrecondition,
    description:
      "A channel with no provider and no outbox standing in; CreateTelegramLink without Telegram (`channel` in the metadata).",
  },
  OUTBOX_DISABLED: {
    code: Code.FailedPrecondition,
    description: "ListOutbox when the development outbox is off (always in production).",
  },
  // Credentials.
  UNAUTHENTICATED: {
    code: Code.Unauthenticated,
    description:
      "No API key where one is required, or a malformed, unknown or revoked one; on AdminService, anything but `ADMIN_TOKEN`. The message never says which.",
  },
  PERMISSION_DENIED: {
    code: Code.PermissionDenied,
    description:
      "A valid key that may not make the call (`need` in the metadata names what is missing).",
  },
  TENANT_NOT_FOUND: {
    code: Code.NotFound,
    description: "AdminService: an unknown tenant, or another tenant's usage asked for with a key.",
  },
  API_KEY_NOT_FOUND: {
    code: Code.NotFound,
    description: "AdminService: an unknown API key.",
  },
  API_KEY_INVALID: {
    code: Code.InvalidArgument,
    description: "CreateApiKey: a bad kind, name, scopes or origins (`field` in the metadata).",
  },
  TENANT_NAME_INVALID: {
    code: Code.InvalidArgument,
    description:
      "CreateTenant, RenameTenant: a name not 1..100 characters, or with a control character, a line break or a bidirectional override; SuspendTenant: such a `reason` over 200 characters (`field` in the metadata).",
  },
  TENANT_SUSPENDED: {
    code: Code.PermissionDenied,
    description:
      "A valid key of a suspended tenant (`SuspendTenant`); it works again once the tenant is resumed.",
  },
  API_KEY_EXPIRED: {
    code: Code.Unauthenticated,
    description: "A valid key past the `expires_at` it was created with.",
  },
  PAGE_TOKEN_INVALID: {
    code: Code.InvalidArgument,
    description:
      "ListAuditEvents: a `page_token` this service did not hand out, or one from another order.",
  },
  AUDIT_FILTER_INVALID: {
    code: Code.InvalidArgument,
    description:
      "ListAuditEvents, WatchAuditEvents, ExportAuditEvents: a filter out of bounds (`field` in the metadata).",
  },
  // Webhooks and events.
  WEBHOOK_ENDPOINT_NOT_FOUND: {
    code: Code.NotFound,
    description: "No webhook endpoint has this id (or it belongs to another tenant).",
  },
  WEBHOOK_ENDPOINT_INVALID: {
    code: Code.InvalidArgument,
    description:
      "CreateWebhookEndpoint, UpdateWebhookEndpoint, RotateWebhookSecret: a refused URL (not http(s), credentials, a private address in production), an unknown event type, or a value out of bounds (`field` in the metadata).",
  },
  WEBHOOK_ENDPOINT_LIMIT: {
    code: Code.FailedPrecondition,
    description:
      "CreateWebhookEndpoint: the tenant has the most endpoints allowed (`max` in the metadata).",
  },
  WEBHOOK_MESSAGE_NOT_FOUND: {
    code: Code.NotFound,
    description:
      "ReplayWebhookEvent: no finished message with this id is kept for the endpoint (kept three days), or it is still queued.",
  },
  EVENT_FILTER_INVALID: {
    code: Code.InvalidArgument,
    description:
      "WatchEvents: an unknown event type or a tenant id out of bounds (`field` in the metadata).",
  },
  WATCH_LAGGING: {
    code: Code.Aborted,
    description:
      "WatchAuditEvents, WatchEvents: the client read too slowly and entries piled up; watch again (and list missed audit entries with `since`).",
  },
  ACTIVITY_QUERY_INVALID: {
    code: Code.InvalidArgument,
    description:
      "GetOverview, GetTimeSeries, WatchActivity: an unknown window, metric, resolution or kind, minutes over 30 days, or too many or too long filters (`field` in the metadata).",
  },
  // Limits.
  ACTIVITY_WATCHERS_EXHAUSTED: {
    code: Code.ResourceExhausted,
    description:
      "WatchActivity: this replica already serves its most open feed streams (`max` in the metadata); with `RetryInfo`.",
  },
  RESEND_COOLDOWN: {
    code: Code.ResourceExhausted,
    description: "Resend before `RESEND_COOLDOWN_SECONDS` passed; with `RetryInfo`.",
  },
  SEND_LIMIT_REACHED: {
    code: Code.ResourceExhausted,
    description:
      "More than `RESEND_MAX_SENDS` codes for one challenge (`max_sends` in the metadata).",
  },
  // Tenant settings, and what they refuse.
  TENANT_SETTINGS_INVALID: {
    code: Code.InvalidArgument,
    description:
      "UpdateTenantSettings: a value out of its bounds, an unparseable limit, an unknown placeholder or a channel, locale or bucket named twice (`field` names it, such as `settings.templates[1].locale`).",
  },
  TEMPLATE_CODE_MISSING: {
    code: Code.InvalidArgument,
    description:
      "UpdateTenantSettings: a message template without the `{{code}}` placeholder (`field` names it).",
  },
  UPDATE_MASK_INVALID: {
    code: Code.InvalidArgument,
    description:
      "UpdateTenantSettings: an update mask naming a field that is not a top-level field of `TenantSettings`.",
  },
  CHANNEL_NOT_ALLOWED: {
    code: Code.PermissionDenied,
    description:
      "Generate or Send: a channel the tenant's settings do not allow (`channel` in the metadata).",
  },
  RATE_LIMIT_KEY_INVALID: {
    code: Code.InvalidArgument,
    description:
      "Generate or Verify: more than 5 `rate_limit_keys`, a key empty or over 256 characters, or a bucket the tenant's settings do not define (`field` names it).",
  },
  VERIFY_SUBJECT_INVALID: {
    code: Code.InvalidArgument,
    description:
      "Verify: neither `id` nor `recipient` given, or both; or `recipient` without `channel`.",
  },
  RATE_LIMITED: {
    code: Code.ResourceExhausted,
    description:
      "A rate limit or tenant quota refused the call (`limit` in the metadata names it); with `RetryInfo`.",
  },
  FRAUD_SUSPECTED: {
    code: Code.ResourceExhausted,
    description:
      "A phone send to a destination prefix the fraud guard blocked for suspected SMS pumping (many sends, few verifications); other prefixes keep working. `prefix` (country code and first digits, never a number) and `channel` in the metadata; with `RetryInfo` for the rest of the cool-down.",
  },
  // Failures outside the caller's control.
  DELIVERY_FAILED: {
    code: Code.Unavailable,
    description:
      "No delivery target accepted the code (Generate, Resend), or the provider refused or did not take the message in time (Send).",
  },
  STORE_UNAVAILABLE: {
    code: Code.Unavailable,
    description: "Redis is unreachable or too slow; with `RetryInfo` of 1 s.",
  },
  SHUTTING_DOWN: {
    code: Code.Unavailable,
    description:
      "An open WatchDelivery when the server stops; watch again to reach another instance.",
  },
  INTERNAL: {
    code: Code.Internal,
    description:
      "Anything unexpected; the message is `internal error (request id <id>)` and nothing more.",
  },
} as const satisfies Record<string, ReasonEntry>;

/** A machine-readable error reason, in UPPER_SNAKE_CASE. */
export type Reason = keyof typeof reasons;

/** The Connect code of every reason: the one mapping from reasons to codes. */
export const reasonCodes = Object.fromEntries(
  Object.entries(reasons).map(([reason, entry]) => [reason, entry.code]),
) as { readonly [R in Reason]: (typeof reasons)[R]["code"] };

/** The domain every reason belongs to, as sent in `ErrorInfo.domain`. */
export const errorDomain = "otp.v1";
