import { DeliveryError, type DeliveryFailureReason, parseRetryAfter } from "../delivery-error.js";

/** Where Telegram's Gateway API answers. */
export const defaultGatewayBaseUrl = "https://gatewayapi.telegram.org";

/** How a message stands in Telegram's `DeliveryStatus.status`. */
export type GatewayDeliveryStatus = "sent" | "delivered" | "read" | "expired" | "revoked";

/**
 * The Gateway's `RequestStatus` object, as far as we read it: the answer to
 * `checkSendAbility` and `sendVerificationMessage`, and the body of a
 * delivery report.
 */
export interface GatewayRequestStatus {
  request_id: string;
  phone_number?: string;
  request_cost?: number;
  is_refunded?: boolean;
  remaining_balance?: number;
  delivery_status?: { status: string; updated_at?: number };
  verification_status?: { status: string; updated_at?: number; code_entered?: string };
  /** What we passed as `payload` when sending: our delivery id. */
  payload?: string;
}

/** A Gateway call that answered `ok: false`, or not with JSON. */
export class GatewayApiError extends Error {
  override readonly name = "GatewayApiError";
  /** The Gateway's error string, for example "ACCESS_TOKEN_INVALID"; empty when it gave none. */
  readonly error: string;
  readonly httpStatus: number;
  readonly retryAfterMs: number | undefined;

  constructor(error: string, httpStatus: number, retryAfterMs?: number) {
    // The Gateway's error strings are upper-case codes, never a phone number or the code.
    super(`telegram gateway: ${error || "no error"} (HTTP ${httpStatus})`);
    this.error = error;
    this.httpStatus = httpStatus;
    this.retryAfterMs = retryAfterMs;
  }
}

/** Options for {@link createGatewayClient}. */
export interface GatewayClientOptions {
  /** The Gateway API token; sent as `Authorization: Bearer`, never logged. */
  token: string;
  /** Another origin for the API (a fake in tests); Telegram's own by default. */
  baseUrl?: string;
  /** The longest one call may take, in milliseconds; 10 seconds by default. */
  requestTimeoutMs?: number;
}

/** The four Gateway methods the channel uses, over Node's fetch. */
export interface GatewayClient {
  checkSendAbility(phoneNumber: string, signal?: AbortSignal): Promise<GatewayRequestStatus>;
  sendVerificationMessage(
    params: {
      phone_number: string;
      request_id?: string;
      code: string;
      ttl: number;
      callback_url?: string;
      payload?: string;
      sender_username?: string;
    },
    signal?: AbortSignal,
  ): Promise<GatewayRequestStatus>;
  checkVerificationStatus(requestId: string, signal?: AbortSignal): Promise<GatewayRequestStatus>;
  /** True when Telegram accepted the revocation (a delivered or read message stays). */
  revokeVerificationMessage(requestId: string, signal?: AbortSignal): Promise<boolean>;
}

// A Gateway answer is a small JSON object; a larger one is refused unread.
const maxAnswerBytes = 64 * 1024;

/**
 * Creates a {@link GatewayClient}: each method is a JSON POST to
 * `<baseUrl>/<method>` with the bearer token, answered `{ok, result}` or
 * `{ok: false, error}`. Failures throw {@link GatewayApiError} (the API said
 * no) or the fetch error (network, timeout); {@link classifyGatewayError}
 * turns either into a `DeliveryError`.
 */
export function createGatewayClient(options: GatewayClientOptions): GatewayClient {
  const base = (options.baseUrl ?? defaultGatewayBaseUrl).replace(/\/+$/, "");
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  const call = async <T>(method: string, params: object, signal?: AbortSignal): Promise<T> => {
    const timeout = AbortSignal.timeout(timeoutMs);
    const response = await fetch(`${base}/${method}`, {
      method: "POST",
      headers: {
        authorization: `Bearer ${options.token}`,
        "content-type": "application/json",
        accept: "application/json",
      },
      body: JSON.stringify(params),
      signal: signal === undefined ? timeout : AbortSignal.any([signal, timeout]),
    });
    const text = await response.text();
    const retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
    if (text.length > maxAnswerBytes) throw new GatewayApiError("", response.status, retryAfterMs);
    let answer: { ok?: unknown; result?: unknown; error?: unknown };
    try {
      answer = JSON.parse(text) as typeof answer;
    } catch {
      throw new GatewayApiError("", response.status, retryAfterMs);
    }
    if (answer.ok !== true) {
      const error = typeof answer.error === "string" ? answer.error.slice(0, 64) : "";
      throw new GatewayApiError(error, response.status, retryAfterMs);
    }
    return answer.result as T;
  };
  return {
    checkSendAbility: (phone_number, signal) =>
      call<GatewayRequestStatus>("checkSendAbility", { phone_number }, signal),
    sendVerificationMessage: (params, signal) =>
      call<GatewayRequestStatus>("sendVerificationMessage", params, signal),
    checkVerificationStatus: (request_id, signal) =>
      call<GatewayRequestStatus>("checkVerificationStatus", { request_id }, signal),
    revokeVerificationMessage: async (request_id, signal) =>
      (await call<unknown>("revokeVerificationMessage", { request_id }, signal)) === true,
  };
}

/** Gateway error strings with a meaning of their own; others go by HTTP status. */
const gatewayErrors: Record<string, { reason: DeliveryFailureReason; retryable: boolean }> = {
  ACCESS_TOKEN_INVALID: { reason: "PROVIDER_AUTH_FAILED", retryable: false },
  ACCESS_TOKEN_REQUIRED: { reason: "PROVIDER_AUTH_FAILED", retryable: false },
  BALANCE_NOT_ENOUGH: { reason: "PROVIDER_QUOTA_EXCEEDED", retryable: false },
  PHONE_NUMBER_INVALID: { reason: "RECIPIENT_INVALID", retryable: false },
  FLOOD_WAIT: { reason: "PROVIDER_RATE_LIMITED", retryable: true },
  TOO_MANY_REQUESTS: { reason: "PROVIDER_RATE_LIMITED", retryable: true },
};

/**
 * Classifies a Gateway failure. A refusal of `checkSendAbility` that is not
 * about our token, balance or rate is the number itself: no Telegram account
 * the Gateway can reach, so "RECIPIENT_UNREACHABLE" (and free: Telegram only
 * charges a check that succeeds). Network failures and timeouts are
 * retryable. Messages are dropped; the Gateway's error string is kept as the
 * provider code.
 */
export function classifyGatewayError(err: unknown, step: "check" | "send"): DeliveryError {
  if (err instanceof GatewayApiError) {
    const known = gatewayErrors[err.error] ?? gatewayErrors[err.error.replace(/_\d+$/, "")];
    const byStatus =
      err.httpStatus === 429 || err.httpStatus >= 500
        ? {
            reason: err.httpStatus === 429 ? "PROVIDER_RATE_LIMITED" : "PROVIDER_UNAVAILABLE",
            retryable: true,
          }
        : err.httpStatus === 401 || err.httpStatus === 403
          ? { reason: "PROVIDER_AUTH_FAILED", retryable: false }
          : {
              reason: step === "check" ? "RECIPIENT_UNREACHABLE" : "PROVIDER_REJECTED",
              retryable: false,
            };
    const { reason, retryable } =
      known ?? (byStatus as { reason: DeliveryFailureReason; retryable: boolean });
    return new DeliveryError("telegram_gateway", reason, {
      retryable,
      httpStatus: err.httpStatus,
      ...(err.error === "" ? {} : { providerCode: err.error }),
      ...(err.retryAfterMs === undefined ? {} : { retryAfterMs: err.retryAfterMs }),
    });
  }
  if (err instanceof DeliveryError) return err;
  const name = (err as { name?: string } | undefined)?.name;
  return new DeliveryError(
    "telegram_gateway",
    name === "TimeoutError" ? "PROVIDER_TIMEOUT" : "PROVIDER_UNAVAILABLE",
    { retryable: true },
  );
}
