import { OtpError } from "../core/otp-error.js";

/** One factory per error the delivery domain raises; messages never include recipients or codes. */
export const deliveryErrors = {
  outboxDisabled: () =>
    new OtpError("OUTBOX_DISABLED", "the development outbox is disabled on this service"),
  pageSizeInvalid: (max: number) =>
    new OtpError("PAGE_SIZE_INVALID", `page_size must be 0 (the default) or between 1 and ${max}`, {
      field: "page_size",
    }),
  channelInvalid: (field: string) =>
    new OtpError("CHANNEL_INVALID", "channel must be a known Channel other than UNSPECIFIED", {
      field,
    }),
  channelNotConfigured: (field: string, channel: string) =>
    new OtpError("CHANNEL_NOT_CONFIGURED", `channel ${channel} is not configured on this service`, {
      field,
      metadata: { channel },
    }),
  channelNotAllowed: (field: string, channel: string) =>
    new OtpError("CHANNEL_NOT_ALLOWED", `this tenant's settings do not allow ${channel}`, {
      field,
      metadata: { channel },
    }),
  recipientInvalid: (field: string, channel: string) =>
    new OtpError("RECIPIENT_INVALID", `recipient is not a valid ${channel} address`, { field }),
  recipientRefused: (
    reason: "COUNTRY_NOT_ALLOWED" | "NUMBER_TYPE_NOT_ALLOWED",
    field: string,
    channel: string,
  ) =>
    new OtpError(
      reason,
      reason === "COUNTRY_NOT_ALLOWED"
        ? `this service does not send ${channel} messages to the recipient's country`
        : `this service does not send ${channel} messages to this type of number (premium rate, fixed line, ...)`,
      { field, metadata: { channel } },
    ),
  selfDestructInvalid: (field: string) =>
    new OtpError(
      "SELF_DESTRUCT_INVALID",
      "self_destruct_seconds must be 0, or between 5 and 86400 on Telegram",
      { field },
    ),
  fallbackAfterInvalid: (field: string) =>
    new OtpError(
      "FALLBACK_AFTER_INVALID",
      "fallback_after_seconds must be 0, or between 1 and 3600",
      {
        field,
      },
    ),
  localeInvalid: (field: string) =>
    new OtpError("LOCALE_INVALID", "locale must be empty or a language tag such as en or de-AT", {
      field,
    }),
  contentInvalid: (maxLength: number) =>
    new OtpError(
      "CONTENT_INVALID",
      `set either text (1 to ${maxLength} characters) or otp (a code of 4 to 64 characters and ttl_seconds from 1 to 86400)`,
      { field: "content" },
    ),
  idInvalid: () => new OtpError("ID_INVALID", "id must be a UUID", { field: "id" }),
  notFound: () => new OtpError("DELIVERY_NOT_FOUND", "no delivery has this id"),
  idempotencyKeyConflict: () =>
    new OtpError(
      "IDEMPOTENCY_KEY_CONFLICT",
      "idempotency_key was already used for a different request",
      { field: "idempotency_key" },
    ),
  /** The provider refused or could not take the message; `reason` is the classified failure. */
  deliveryFailed: (channel: string, reason: string, deliveryId: string) =>
    new OtpError("DELIVERY_FAILED", `the ${channel} provider did not accept the message`, {
      metadata: { channel, failure_reason: reason, delivery_id: deliveryId },
    }),
  shuttingDown: () =>
    new OtpError("SHUTTING_DOWN", "this server is shutting down; watch again to reach another"),
  accountIdInvalid: () =>
    new OtpError(
      "ACCOUNT_ID_INVALID",
      "account_id must be 1 to 128 characters of A-Z, a-z, 0-9 and . _ : @ -",
      { field: "account_id" },
    ),
};
