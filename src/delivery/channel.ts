import type { ChannelKind } from "../core/channel-kind.js";
import type { DeliveryError } from "./delivery-error.js";

/** What a code message says, for channels that render it from their own template. */
export interface CodeContent {
  code: string;
  /** The code's lifetime, in seconds. */
  ttlSeconds: number;
  /** A BCP 47 tag such as "es" or "de-AT"; the templates' default locale when absent. */
  locale?: string;
  /** The tenant's brand and templates, laid over the service's (see templates.ts). */
  style?: MessageStyle;
}

/**
 * A tenant's brand and message templates as the templates read them, by
 * `<channel>/<locale>` ("" locale: the tenant's default). The tenant
 * settings' effective form satisfies it as it is.
 */
export interface MessageStyle {
  brandName: string;
  templates: ReadonlyMap<string, { text: string; subject: string }>;
  /** The tenant's lines that let phones fill in a code sent by SMS, in place of the service's. */
  smsAutofill?: { appHash?: string; domain?: string } | undefined;
}

/** A message ready to go out over one channel. */
export interface OutgoingMessage {
  recipient: string;
  /** The rendered text; channels use it when {@link code} is absent. */
  text: string;
  /** The challenge whose code the message carries, if any. */
  challengeId: string;
  /** For Telegram, delete the message after this many seconds; 0 keeps it. */
  selfDestructSeconds: number;
  /**
   * The code itself, when the message carries one: a channel with templates
   * renders its own text (and, for email, subject and HTML) from it instead
   * of sending {@link text}.
   */
  code?: CodeContent;
  /** The email subject of a free-text message. */
  subject?: string;
  /**
   * The tenant of the call that sends it (undefined in work without one):
   * the outbox files the message under it, Telegram finds the tenant's account links.
   */
  tenantId?: string;
}

/**
 * Where a delivery stands. A channel reports "queued" or "sent" when the
 * provider accepts a message; "delivered" and "failed" come later from the
 * provider where it reports them (Twilio status callbacks), and "deleted" from
 * the Telegram self-destruct.
 */
export type DeliveryStatus = "queued" | "sent" | "delivered" | "failed" | "deleted";

/** What a provider said when it accepted a message. */
export interface SendReceipt {
  /** The provider's id of the message: Twilio SID, Resend email id, Telegram "<chat id>:<message id>". */
  providerMessageId: string;
  /** The status right after the send: "queued" when the provider sends later, "sent" otherwise. */
  status: DeliveryStatus;
  /** When a self-destructing Telegram message is due to be deleted, in epoch milliseconds. */
  deleteAtMs?: number;
  /** The provider attempt that succeeded, counting from 1. */
  attempts?: number;
}

/** How one send may retry, narrower than the channel's own policy. */
export interface SendOptions {
  /** The longest the send may take, retries included; the channel's budget when larger. */
  maxTotalMs?: number;
  /** The most attempts; the channel's policy when larger. */
  maxAttempts?: number;
  /** Told before each wait between two attempts, for traces and logs. */
  onRetry?: (err: DeliveryError, attempt: number, delayMs: number) => void;
  /** Cancels the send, for example when the client went away. */
  signal?: AbortSignal;
}

/** One way of reaching a person, in front of its provider. */
export interface Channel {
  /** The channel this adapter sends through. */
  readonly kind: ChannelKind;
  /** A short description for ListChannels and the banner, for example "Twilio SMS". */
  readonly description: string;
  /**
   * Sends the message and resolves once the provider accepted it. Provider
   * adapters resolve with a {@link SendReceipt}; the outbox resolves with
   * nothing. A failure rejects with a `DeliveryError` carrying the reason.
   */
  send(
    message: OutgoingMessage,
    deliveryId: string,
    options?: SendOptions,
    // biome-ignore lint/suspicious/noConfusingVoidType: the outbox resolves with nothing.
  ): Promise<SendReceipt | void>;
  /** Tells whether the channel can take messages now. */
  healthy(): Promise<boolean>;
  /**
   * Takes back a message the channel sent, by the provider's id from its
   * receipt (the Telegram Gateway revokes it); absent on channels whose
   * messages cannot be withdrawn. Resolves true when the provider took the
   * request; a failure rejects with a `DeliveryError`.
   */
  withdraw?(providerMessageId: string, options?: { signal?: AbortSignal }): Promise<boolean>;
}
