import twilio from "twilio";
import type { Channel, OutgoingMessage, SendOptions, SendReceipt } from "../channel.js";
import { DeliveryError, reasonForHttpStatus } from "../delivery-error.js";
import { createOutageTracker } from "../outage-tracker.js";
import { normalizePhone, type PhonePolicy } from "../phone.js";
import { defaultRetryPolicy, narrowPolicy, type RetryPolicy, withRetry } from "../retry.js";
import { type SmsAutofill, withAutofill } from "../sms-autofill.js";
import { createTemplates, type Templates } from "../templates.js";
import { twilioStatusCallbackUrl } from "./twilio-status.js";

type TwilioClient = ReturnType<typeof twilio>;
type RequestOptions = Parameters<InstanceType<typeof twilio.RequestClient>["request"]>[0];

/** When the Twilio request being made right now must be done, in epoch milliseconds. */
let requestDeadline: number | undefined;

/**
 * Runs `fn` with its Twilio request cut to end within `remainingMs`, as the
 * SMS, WhatsApp and voice sends do, so retries stay within their total
 * budget. The deadline holds for the synchronous part of `fn` only: the SDK
 * builds and starts its HTTP request inside `create()` without awaiting
 * anything first, so `create()` must be called before `fn`'s first await.
 * This is not an `AsyncLocalStorage`, which would turn on async hooks for
 * every promise of the process (docs/hot-path.md). Were a later SDK to await
 * first, its request would keep the client's own timeout, and the test of a
 * hanging Twilio would fail.
 */
function withTwilioDeadline<T>(remainingMs: number, fn: () => Promise<T>): Promise<T> {
  const outer = requestDeadline;
  requestDeadline = Date.now() + Math.floor(remainingMs);
  try {
    return fn();
  } finally {
    requestDeadline = outer;
  }
}

/**
 * Creates one Twilio resource (a message or a call) with the send's retries:
 * each attempt's requests cut to the budget left (see
 * {@link withTwilioDeadline}) and its failure classified for `kind`. The
 * receipt carries the resource's SID and how many attempts it took.
 */
export async function createWithRetries(
  kind: "sms" | "whatsapp" | "voice",
  create: () => Promise<{ sid: string }>,
  retry: {
    policy: RetryPolicy;
    sendOptions: SendOptions;
    random: ((maxExclusive: number) => number) | undefined;
  },
): Promise<SendReceipt> {
  let attempts = 0;
  const created = await withRetry(
    ({ remainingMs, attempt }) =>
      withTwilioDeadline(remainingMs(), async () => {
        attempts = attempt;
        try {
          return await create();
        } catch (err) {
          throw classifyTwilioError(kind, err);
        }
      }),
    narrowPolicy(retry.policy, retry.sendOptions),
    {
      channel: kind,
      random: retry.random,
      onRetry: retry.sendOptions.onRetry,
      signal: retry.sendOptions.signal,
    },
  );
  return { providerMessageId: created.sid, status: "queued", attempts };
}

/**
 * A Twilio `RequestClient` that sends every request to `baseUrl` instead of
 * Twilio's hosts, keeping path and query. The SDK has no base-URL option
 * (`edge` and `region` only change the host name), so this is how tests point
 * the real SDK at a local fake. It also cuts each request's timeout to the
 * time left for the send, so retries stay within their total budget.
 */
export class BaseUrlRequestClient extends twilio.RequestClient {
  readonly #origin: string | undefined;

  /**
   * @param baseUrl Origin (and optional path prefix) to send to; undefined keeps Twilio's own.
   * @param timeoutMs The longest one request may take.
   */
  constructor(baseUrl: string | undefined, timeoutMs: number) {
    super({ timeout: timeoutMs, keepAlive: true });
    this.#origin = baseUrl?.replace(/\/+$/, "");
  }

  override request<TData>(opts: RequestOptions & { data?: TData }) {
    const uri =
      this.#origin === undefined
        ? opts.uri
        : (() => {
            const original = new URL(opts.uri);
            return `${this.#origin}${original.pathname}${original.search}`;
          })();
    const deadline = requestDeadline;
    const timeout =
      deadline === undefined
        ? opts.timeout
        : Math.max(1, Math.min(opts.timeout ?? this.defaultTimeout, deadline - Date.now()));
    return super.request<TData>({ ...opts, uri, timeout });
  }
}

/** Options for {@link createTwilioClient}. */
export interface TwilioClientOptions {
  accountSid: string;
  authToken: string;
  /** Where to send API calls instead of https://api.twilio.com, for tests. */
  baseUrl?: string;
  /** The longest one API call may take, in milliseconds; 10 seconds by default. */
  requestTimeoutMs?: number;
}

/**
 * Creates the Twilio REST client shared by the SMS and WhatsApp channels. The
 * SDK's own 429 retry is off: {@link withRetry} handles every retry.
 */
export function createTwilioClient(options: TwilioClientOptions): TwilioClient {
  return twilio(options.accountSid, options.authToken, {
    httpClient: new BaseUrlRequestClient(options.baseUrl, options.requestTimeoutMs ?? 10_000),
    autoRetry: false,
  });
}

/** Options for {@link createTwilioChannel}. */
export interface TwilioChannelOptions {
  kind: "sms" | "whatsapp";
  client: TwilioClient;
  /** The sender: an E.164 number (without the "whatsapp:" prefix), or omit it and give a messaging service. */
  from?: string;
  /** A Messaging Service SID (MG...), used instead of `from` when set. */
  messagingServiceSid?: string;
  /**
   * The public URL of the status callback endpoint. When set, each message
   * asks Twilio to report its status there, with the delivery id in the query.
   */
  statusCallbackUrl?: string;
  /** Allowed destination countries and number types. */
  phonePolicy: PhonePolicy;
  /**
   * WhatsApp only: the Content SID (HX...) of an approved authentication
   * template. WhatsApp refuses free text outside a 24-hour session, so code
   * messages use this template with the code as variable 1 when it is set.
   */
  whatsappContentSid?: string;
  /** Lines that let phones fill in a code (SMS only: an app hash, an origin-bound line). */
  autofill?: SmsAutofill;
  templates?: Templates;
  retry?: RetryPolicy;
  /** For the retry jitter in tests. */
  random?: (maxExclusive: number) => number;
}

/**
 * The SMS or WhatsApp channel over Twilio's Messages API. The recipient is
 * normalised to E.164 and checked against the allowed countries and number
 * types before anything is sent; WhatsApp addresses get their "whatsapp:"
 * prefix here. A code message asks Twilio to drop it once the code has
 * expired (`ValidityPeriod`), so a late SMS never carries a dead code.
 */
export function createTwilioChannel(options: TwilioChannelOptions): Channel {
  const { kind, client } = options;
  if (options.from === undefined && options.messagingServiceSid === undefined) {
    throw new Error(`twilio ${kind}: set a sender number or a messaging service SID`);
  }
  const templates = options.templates ?? createTemplates();
  const policy = options.retry ?? defaultRetryPolicy;
  const outage = createOutageTracker();
  const address = (e164: string) => (kind === "whatsapp" ? `whatsapp:${e164}` : e164);

  return {
    kind,
    description: kind === "sms" ? "Twilio SMS" : "Twilio WhatsApp",
    async send(
      message: OutgoingMessage,
      deliveryId: string,
      sendOptions: SendOptions = {},
    ): Promise<SendReceipt> {
      try {
        const checked = normalizePhone(message.recipient, options.phonePolicy);
        if (!checked.ok) throw new DeliveryError(kind, checked.reason, { retryable: false });
        const params: Parameters<TwilioClient["messages"]["create"]>[0] = {
          to: address(checked.e164),
          ...(options.messagingServiceSid !== undefined
            ? { messagingServiceSid: options.messagingServiceSid }
            : { from: address(options.from ?? "") }),
          ...(options.statusCallbackUrl === undefined
            ? {}
            : { statusCallback: twilioStatusCallbackUrl(options.statusCallbackUrl, deliveryId) }),
        };
        if (message.code === undefined) {
          params.body = message.text;
        } else {
          if (kind === "whatsapp" && options.whatsappContentSid !== undefined) {
            params.contentSid = options.whatsappContentSid;
            params.contentVariables = JSON.stringify({ "1": message.code.code });
          } else {
            const text = templates.render(kind, message.code).text;
            // The tenant's own autofill lines, else the service's.
            const autofill = message.code.style?.smsAutofill ?? options.autofill;
            params.body =
              autofill === undefined || kind !== "sms"
                ? text
                : withAutofill(text, message.code.code, autofill);
          }
          params.validityPeriod = Math.min(14_400, Math.max(1, message.code.ttlSeconds));
        }
        const receipt = await createWithRetries(kind, () => client.messages.create(params), {
          policy,
          sendOptions,
          random: options.random,
        });
        outage.succeeded();
        return receipt;
      } catch (err) {
        if (err instanceof DeliveryError) outage.failed(err);
        throw err;
      }
    },
    healthy: async () => outage.healthy(),
  };
}

/** Twilio error codes with a meaning of their own; others go by HTTP status. */
const twilioCodes: Record<
  number,
  { reason: ConstructorParameters<typeof DeliveryError>[1]; retryable: boolean }
> = {
  20003: { reason: "PROVIDER_AUTH_FAILED", retryable: false },
  20429: { reason: "PROVIDER_RATE_LIMITED", retryable: true },
  21211: { reason: "RECIPIENT_INVALID", retryable: false },
  21217: { reason: "RECIPIENT_INVALID", retryable: false },
  21614: { reason: "RECIPIENT_INVALID", retryable: false },
  21408: { reason: "COUNTRY_NOT_ALLOWED", retryable: false },
  21610: { reason: "RECIPIENT_OPTED_OUT", retryable: false },
  21612: { reason: "RECIPIENT_UNREACHABLE", retryable: false },
  21611: { reason: "PROVIDER_RATE_LIMITED", retryable: true },
};

/**
 * Classifies an error from the Twilio SDK. A `RestException` is classified by
 * its Twilio error code where that says more (21211 invalid number, 21610
 * opted out, ...) and else by HTTP status; an error without a response is a
 * network failure or timeout, and retryable. The exception's message is
 * dropped: Twilio's messages quote the phone number.
 */
export function classifyTwilioError(
  kind: "sms" | "whatsapp" | "voice",
  err: unknown,
): DeliveryError {
  if (err instanceof twilio.RestException) {
    const status = err.status;
    const code = typeof err.code === "number" ? err.code : undefined;
    const known = code === undefined ? undefined : twilioCodes[code];
    const { reason, retryable } = known ?? reasonForHttpStatus(status);
    return new DeliveryError(kind, reason, {
      retryable,
      httpStatus: status,
      providerCode: code === undefined ? undefined : String(code),
    });
  }
  const axios = err as { isAxiosError?: boolean; code?: string };
  if (axios.isAxiosError === true) {
    const timedOut = axios.code === "ECONNABORTED" || axios.code === "ETIMEDOUT";
    return new DeliveryError(kind, timedOut ? "PROVIDER_TIMEOUT" : "PROVIDER_UNAVAILABLE", {
      retryable: true,
    });
  }
  return new DeliveryError(kind, "INTERNAL", { retryable: false });
}
