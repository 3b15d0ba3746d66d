import type { ChannelKind } from "../core/channel-kind.js";

/**
 * Why a send failed, machine-readable. The first group is retryable: the same
 * message may go through later. The rest are permanent: sending it again, to
 * the same recipient over the same channel, would fail the same way.
 */
export type DeliveryFailureReason =
  // Retryable.
  | "PROVIDER_UNAVAILABLE"
  | "PROVIDER_TIMEOUT"
  | "PROVIDER_RATE_LIMITED"
  | "RECIPIENT_LOOKUP_FAILED"
  | "DELIVERY_CANCELED"
  // Permanent.
  | "PROVIDER_AUTH_FAILED"
  | "PROVIDER_QUOTA_EXCEEDED"
  | "PROVIDER_REJECTED"
  | "RECIPIENT_INVALID"
  | "RECIPIENT_NOT_FOUND"
  | "RECIPIENT_UNREACHABLE"
  | "RECIPIENT_OPTED_OUT"
  | "RECIPIENT_NOT_LINKED"
  | "COUNTRY_NOT_ALLOWED"
  | "NUMBER_TYPE_NOT_ALLOWED"
  | "SELF_DESTRUCT_UNAVAILABLE"
  | "CONTENT_NOT_SUPPORTED"
  | "INTERNAL";

/** Safe facts about a failure; never the code, a token or a full recipient. */
export interface DeliveryErrorOptions {
  retryable: boolean;
  /** The provider's HTTP status, when it answered. */
  httpStatus?: number;
  /** The provider's own error code (Twilio 21211, Resend "validation_error", ...). */
  providerCode?: string;
  /** How long the provider asked us to wait, from `retry_after` or `Retry-After`. */
  retryAfterMs?: number;
}

/**
 * A failed send, classified. Its message names the channel, the reason and
 * the provider's status and code, and nothing else: provider messages are
 * dropped on purpose, because they can quote the recipient (Twilio: "The 'To'
 * number +1... is not valid") and raw SDK errors can hold the request body,
 * which carries the code.
 *
 * @example
 * throw new DeliveryError("sms", "RECIPIENT_INVALID", { retryable: false, httpStatus: 400, providerCode: "21211" });
 */
export class DeliveryError extends Error {
  override readonly name = "DeliveryError";
  readonly channel: ChannelKind;
  readonly reason: DeliveryFailureReason;
  readonly retryable: boolean;
  readonly httpStatus: number | undefined;
  readonly providerCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  /** How many attempts were made before giving up; set by `withRetry`. */
  attempts = 1;

  constructor(channel: ChannelKind, reason: DeliveryFailureReason, options: DeliveryErrorOptions) {
    const facts = [
      options.httpStatus === undefined ? "" : `HTTP ${options.httpStatus}`,
      options.providerCode === undefined ? "" : `provider code ${options.providerCode}`,
    ].filter((s) => s !== "");
    super(
      `${channel} delivery failed: ${reason}${facts.length > 0 ? ` (${facts.join(", ")})` : ""}`,
    );
    this.channel = channel;
    this.reason = reason;
    this.retryable = options.retryable;
    this.httpStatus = options.httpStatus;
    this.providerCode = options.providerCode;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** Tells whether `err` is a {@link DeliveryError}. */
export function isDeliveryError(err: unknown): err is DeliveryError {
  return err instanceof DeliveryError;
}

/**
 * The reason to record for a failed send: the classified reason of a
 * {@link DeliveryError}, else the generic "DELIVERY_FAILED".
 */
export function failureReasonOf(err: unknown): string {
  return isDeliveryError(err) ? err.reason : "DELIVERY_FAILED";
}

/**
 * Classifies a provider's HTTP status: 429 and 5xx are retryable, 401 and 403
 * are credential failures, any other 4xx a rejection.
 */
export function reasonForHttpStatus(status: number): {
  reason: DeliveryFailureReason;
  retryable: boolean;
} {
  if (status === 429) return { reason: "PROVIDER_RATE_LIMITED", retryable: true };
  if (status >= 500) return { reason: "PROVIDER_UNAVAILABLE", retryable: true };
  if (status === 408) return { reason: "PROVIDER_TIMEOUT", retryable: true };
  if (status === 401 || status === 403) return { reason: "PROVIDER_AUTH_FAILED", retryable: false };
  return { reason: "PROVIDER_REJECTED", retryable: false };
}

/** Parses an HTTP `Retry-After` header (seconds or a date) into milliseconds. */
export function parseRetryAfter(
  value: string | null | undefined,
  nowMs = Date.now(),
): number | undefined {
  if (value === null || value === undefined || value.trim() === "") return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs);
}
