import type { Channel } from "../delivery/channel.js";
import type { TelegramLinker } from "../delivery/delivery-service.js";
import type { RetryPolicy } from "../delivery/retry.js";
import type { Mount } from "../http/mount.js";
import type { ChannelKind } from "../store/store.js";
import type { ProviderParts, ProvidersOptions } from "./provider-parts.js";
import { wireTelegramGateway } from "./telegram-gateway-provider.js";
import { wireTelegram } from "./telegram-provider.js";
import { wireTwilio } from "./twilio-provider.js";

/** The provider channels built from the config, and what runs beside them. */
export interface Providers {
  /** One channel per configured provider channel. */
  channels: Channel[];
  /** Provider webhooks to serve on our port: Telegram updates, Twilio status callbacks. */
  mounts: Mount[];
  /** Makes Telegram deep links; undefined without Telegram. */
  telegramLinker: TelegramLinker | undefined;
  /** Whether a channel reports statuses after accepting a message (Twilio with callbacks). */
  reportsStatus(channel: ChannelKind): boolean;
  /** Lines for the start-up banner, for example "telegram updates: webhook". */
  notes: string[];
  /** Starts the background work: self-destruct deletions, Telegram polling or webhook registration. */
  start(): void;
  /** Stops the background work, letting a round of deletions in flight finish. */
  stop(): Promise<void>;
}

export type { ProvidersOptions } from "./provider-parts.js";

/**
 * Builds the Telegram (grammy), SMS, WhatsApp and voice (Twilio), Telegram
 * Gateway (fetch) and email (Resend) channels the config names, with the state they keep beside the store: the
 * Telegram deletion queue and links live in the store's Redis under its key
 * prefix (so every replica shares them), or in memory without Redis.
 */
export async function createProviders(options: ProvidersOptions): Promise<Providers> {
  const { config, store, logger, templates } = options;
  const parts: ProviderParts = {
    channels: [],
    mounts: [],
    notes: [],
    starts: [],
    stops: [],
    telegramLinker: undefined,
    twilioReports: false,
    gatewayReports: false,
    record: (deliveryId, event) =>
      store.appendDeliveryEvent(deliveryId, event).then(
        () => {},
        (err: unknown) => {
          logger.warn({ err, delivery_id: deliveryId }, "recording a delivery event failed");
        },
      ),
  };
  const { channels } = parts;
  const retry: RetryPolicy = config.retry;

  if (config.telegram !== undefined) await wireTelegram(config.telegram, options, parts);
  if (config.twilio !== undefined) await wireTwilio(config.twilio, options, parts);
  if (config.telegramGateway !== undefined) {
    await wireTelegramGateway(config.telegramGateway, options, parts);
  }
  if (config.email !== undefined) {
    const { createEmailChannel } = await import("../delivery/email/email-channel.js");
    const em = config.email;
    channels.push(
      createEmailChannel({
        apiKey: em.apiKey,
        from: em.from,
        replyTo: em.replyTo,
        baseUrl: em.baseUrl,
        requestTimeoutMs: config.providerTimeoutMs,
        templates,
        retry,
      }),
    );
  }

  return {
    channels,
    mounts: parts.mounts,
    telegramLinker: parts.telegramLinker,
    reportsStatus: (channel) =>
      (parts.twilioReports &&
        (channel === "sms" || channel === "whatsapp" || channel === "voice")) ||
      (parts.gatewayReports && channel === "telegram_gateway"),
    notes: parts.notes,
    start() {
      for (const start of parts.starts) start();
    },
    async stop() {
      await Promise.all(parts.stops.map((stop) => stop()));
    },
  };
}
