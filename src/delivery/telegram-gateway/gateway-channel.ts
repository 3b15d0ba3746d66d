import type { Channel, OutgoingMessage, SendOptions, SendReceipt } from "../channel.js";
import { DeliveryError } from "../delivery-error.js";
import { createOutageTracker } from "../outage-tracker.js";
import { normalizePhone, type PhonePolicy } from "../phone.js";
import { defaultRetryPolicy, narrowPolicy, type RetryPolicy, withRetry } from "../retry.js";
import { classifyGatewayError, type GatewayClient } from "./gateway-client.js";

/** Options for {@link createTelegramGatewayChannel}. */
export interface TelegramGatewayChannelOptions {
  client: GatewayClient;
  /** The public URL the Gateway posts delivery reports to; no reports without it. */
  callbackUrl?: string;
  /** A verified Telegram channel the code is sent from; Telegram's own when absent. */
  senderUsername?: string;
  /** Allowed destination countries and number types. */
  phonePolicy: PhonePolicy;
  retry?: RetryPolicy;
  /** For the retry jitter in tests. */
  random?: (maxExclusive: number) => number;
}

// The Gateway takes codes of 4 to 8 digits and a ttl of 30 to 3600 seconds.
const gatewayCode = /^\d{4,8}$/;
const minTtl = 30;
const maxTtl = 3600;

/**
 * The Telegram Gateway channel: a verification message, with our code, to
 * the Telegram account of a phone number. Each send first asks
 * `checkSendAbility`, so a number without a reachable account fails at once
 * with "RECIPIENT_UNREACHABLE" (free: Telegram charges only a check that
 * succeeds) and the next target takes over; then `sendVerificationMessage`
 * with the check's `request_id` (no second charge), our code, the code's
 * lifetime as `ttl`, the callback URL, and the delivery id as `payload`, so
 * a signed report names its delivery. The receipt's provider id is the
 * request id, which {@link Channel.withdraw} revokes.
 */
export function createTelegramGatewayChannel(options: TelegramGatewayChannelOptions): Channel {
  const policy = options.retry ?? defaultRetryPolicy;
  const outage = createOutageTracker();
  return {
    kind: "telegram_gateway",
    description: "Telegram Gateway",
    async send(message, deliveryId, sendOptions = {}): Promise<SendReceipt> {
      try {
        const receipt = await sendCode(options, policy, message, deliveryId, sendOptions);
        outage.succeeded();
        return receipt;
      } catch (err) {
        if (err instanceof DeliveryError) outage.failed(err);
        throw err;
      }
    },
    healthy: async () => outage.healthy(),
    withdraw: (providerMessageId, withdrawOptions = {}) =>
      retrying(
        options,
        policy,
        "send",
        (signal) => options.client.revokeVerificationMessage(providerMessageId, signal),
        { signal: withdrawOptions.signal },
        () => {},
      ),
  };
}

// One Gateway call with the channel's retries, classified.
function retrying<T>(
  options: TelegramGatewayChannelOptions,
  policy: RetryPolicy,
  step: "check" | "send",
  call: (signal: AbortSignal) => Promise<T>,
  sendOptions: SendOptions,
  count: (attempt: number) => void,
): Promise<T> {
  return withRetry(
    async ({ signal, attempt }) => {
      count(attempt);
      try {
        return await call(signal);
      } catch (err) {
        throw classifyGatewayError(err, step);
      }
    },
    narrowPolicy(policy, sendOptions),
    {
      channel: "telegram_gateway",
      random: options.random,
      onRetry: sendOptions.onRetry,
      signal: sendOptions.signal,
    },
  );
}

// checkSendAbility, then sendVerificationMessage with the check's request id.
async function sendCode(
  options: TelegramGatewayChannelOptions,
  policy: RetryPolicy,
  message: OutgoingMessage,
  deliveryId: string,
  sendOptions: SendOptions,
): Promise<SendReceipt> {
  const { client } = options;
  let attempts = 0;
  const count = (n: number) => {
    attempts = n;
  };
  const checked = normalizePhone(message.recipient, options.phonePolicy);
  if (!checked.ok) {
    throw new DeliveryError("telegram_gateway", checked.reason, { retryable: false });
  }
  const code = message.code;
  // The Gateway sends codes only, and only short numeric ones: refused
  // before the check, which Telegram would charge.
  if (code === undefined || !gatewayCode.test(code.code)) {
    throw new DeliveryError("telegram_gateway", "CONTENT_NOT_SUPPORTED", { retryable: false });
  }
  const ability = await retrying(
    options,
    policy,
    "check",
    (signal) => client.checkSendAbility(checked.e164, signal),
    sendOptions,
    count,
  );
  const requestId = typeof ability.request_id === "string" ? ability.request_id : "";
  const sent = await retrying(
    options,
    policy,
    "send",
    (signal) =>
      client.sendVerificationMessage(
        {
          phone_number: checked.e164,
          ...(requestId === "" ? {} : { request_id: requestId }),
          code: code.code,
          ttl: Math.min(maxTtl, Math.max(minTtl, Math.round(code.ttlSeconds))),
          payload: deliveryId,
          ...(options.callbackUrl === undefined ? {} : { callback_url: options.callbackUrl }),
          ...(options.senderUsername === undefined
            ? {}
            : { sender_username: options.senderUsername }),
        },
        signal,
      ),
    sendOptions,
    count,
  );
  return { providerMessageId: String(sent.request_id), status: "sent", attempts };
}
