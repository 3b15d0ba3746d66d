import { Resend } from "resend";
import type { Channel, OutgoingMessage, SendOptions, SendReceipt } from "../channel.js";
import { DeliveryError, parseRetryAfter, reasonForHttpStatus } from "../delivery-error.js";
import { createOutageTracker } from "../outage-tracker.js";
import { defaultRetryPolicy, narrowPolicy, type RetryPolicy, withRetry } from "../retry.js";
import { createTemplates, type Templates } from "../templates.js";

/** Options for {@link createEmailChannel}. */
export interface EmailChannelOptions {
  apiKey: string;
  /** The sender, for example "Acme <login@mail.acme.com>", on a domain verified with Resend. */
  from: string;
  /** Where to send API calls instead of https://api.resend.com, for tests. */
  baseUrl?: string;
  /** An optional Reply-To address. */
  replyTo?: string;
  /** The subject of a free-text message that names none. */
  defaultSubject?: string;
  /** The longest one API call may take, in milliseconds; 10 seconds by default. */
  requestTimeoutMs?: number;
  templates?: Templates;
  retry?: RetryPolicy;
  /** For the retry jitter in tests. */
  random?: (maxExclusive: number) => number;
}

/**
 * The email channel over Resend. A code message gets the subject, text and
 * HTML of the email template in its locale. The delivery id is sent as
 * Resend's `Idempotency-Key`, so a retry after a lost response never sends a
 * second email.
 */
export function createEmailChannel(options: EmailChannelOptions): Channel {
  const resend = new Resend(options.apiKey, { baseUrl: options.baseUrl?.replace(/\/+$/, "") });
  const templates = options.templates ?? createTemplates();
  const policy = options.retry ?? defaultRetryPolicy;
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const outage = createOutageTracker();

  return {
    kind: "email",
    description: "Resend email",
    async send(
      message: OutgoingMessage,
      deliveryId: string,
      sendOptions: SendOptions = {},
    ): Promise<SendReceipt> {
      let attempts = 0;
      try {
        const content =
          message.code === undefined
            ? {
                subject: message.subject ?? options.defaultSubject ?? "Your message",
                text: message.text,
              }
            : (() => {
                const rendered = templates.render("email", message.code);
                return {
                  subject: rendered.subject ?? "",
                  text: rendered.text,
                  html: rendered.html ?? "",
                };
              })();
        const id = await withRetry(
          async ({ signal, remainingMs, attempt }) => {
            attempts = attempt;
            const attemptSignal = AbortSignal.any([
              signal,
              AbortSignal.timeout(Math.max(1, Math.floor(Math.min(timeoutMs, remainingMs())))),
            ]);
            const { data, error, headers } = await resend.emails.send(
              {
                from: options.from,
                to: [message.recipient],
                ...content,
                ...(options.replyTo === undefined ? {} : { replyTo: options.replyTo }),
              },
              { idempotencyKey: deliveryId, signal: attemptSignal },
            );
            if (error !== null) throw classifyResendError(error, headers);
            return data.id;
          },
          narrowPolicy(policy, sendOptions),
          {
            channel: "email",
            random: options.random,
            onRetry: sendOptions.onRetry,
            signal: sendOptions.signal,
          },
        );
        outage.succeeded();
        return { providerMessageId: id, status: "sent", attempts };
      } catch (err) {
        if (err instanceof DeliveryError) outage.failed(err);
        throw err;
      }
    },
    healthy: async () => outage.healthy(),
  };
}

/**
 * Classifies an error answer of the Resend SDK (which returns errors rather
 * than throwing them). A missing status is a network failure and retryable,
 * as are 429 rate limits, 5xx and a concurrent request with the same
 * idempotency key; quota exhaustion (also 429) and other 4xx are permanent.
 */
export function classifyResendError(
  error: { name: string; statusCode: number | null },
  headers: Record<string, string> | null,
): DeliveryError {
  const status = error.statusCode;
  const providerCode = error.name;
  if (status === null) {
    return new DeliveryError("email", "PROVIDER_UNAVAILABLE", { retryable: true, providerCode });
  }
  const base = { httpStatus: status, providerCode };
  if (providerCode === "daily_quota_exceeded" || providerCode === "monthly_quota_exceeded") {
    return new DeliveryError("email", "PROVIDER_QUOTA_EXCEEDED", { ...base, retryable: false });
  }
  if (providerCode === "concurrent_idempotent_requests") {
    return new DeliveryError("email", "PROVIDER_RATE_LIMITED", { ...base, retryable: true });
  }
  if (providerCode === "invalid_from_address" || providerCode === "missing_api_key") {
    return new DeliveryError("email", "PROVIDER_REJECTED", { ...base, retryable: false });
  }
  const { reason, retryable } = reasonForHttpStatus(status);
  return new DeliveryError("email", reason, {
    ...base,
    retryable,
    retryAfterMs: status === 429 ? parseRetryAfter(headers?.["retry-after"]) : undefined,
  });
}
