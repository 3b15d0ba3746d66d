import { setTimeout as sleep } from "node:timers/promises";
import type { DeliveryConfig } from "../config/index.js";
import { isSealed, type RecipientVault } from "../core/recipient-vault.js";
import type { Channel } from "../delivery/channel.js";
import {
  advancesStatus,
  deliveryStatusOf,
  type TelegramLinker,
} from "../delivery/delivery-service.js";
import { maskRecipient } from "../delivery/mask.js";
import type { RecipientPolicy } from "../delivery/recipients.js";
import type { RetryPolicy } from "../delivery/retry.js";
import type { DeletionQueue } from "../delivery/telegram/deletion-queue.js";
import type { SelfDestruct } from "../delivery/telegram/self-destruct.js";
import type { TelegramPolling } from "../delivery/telegram/telegram-bot.js";
import { scopeAccountsToTenant, type TelegramLinks } from "../delivery/telegram/telegram-links.js";
import type { Templates } from "../delivery/templates.js";
import type { Mount } from "../http/mount.js";
import type { CodeHasher } from "../otp/code-hasher.js";
import { createMemoryDeletionQueue } from "../store/memory/deletion-queue.js";
import { createMemoryTelegramLinks } from "../store/memory/telegram-links.js";
import { createRedisDeletionQueue } from "../store/redis/deletion-queue.js";
import { createRedisTelegramLinks } from "../store/redis/telegram-links.js";
import type { RedisTopology } from "../store/redis/topology.js";
import type { ChannelKind, Store } from "../store/store.js";
import type { Logger } from "../telemetry/logger.js";
import type { Metrics } from "../telemetry/metrics.js";

/** Options for {@link createProviders}. */
export interface ProvidersOptions {
  config: DeliveryConfig;
  store: Store;
  /** The Redis under the store, where the deletion queue and links live too; memory versions without it. */
  redis: { topology: RedisTopology; keyPrefix: string } | undefined;
  /** Found Telegram phone links before they were named under the recipient key; read, never written. */
  hasher: CodeHasher;
  /**
   * Names Telegram phone links by keyed hash and seals the chat ids of links
   * and of the deletion queue, so Redis holds neither phone numbers nor chat ids.
   */
  vault: RecipientVault;
  templates: Templates;
  recipients: RecipientPolicy;
  logger: Logger;
  metrics: Metrics;
  /**
   * True in the one process of a multi-process service that registers the
   * Telegram webhook or polls for updates (Telegram allows one poller per bot).
   */
  leader: boolean;
  now: () => number;
}

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

/**
 * Builds the Telegram (grammy), SMS and WhatsApp (Twilio) and email (Resend)
 * channels the config names, with the state they keep beside the store: the
 * Telegram deletion queue and links live in the store's Redis under its key
 * prefix (so every replica shares them), or in memory without Redis.
 */
export async function createProviders(options: ProvidersOptions): Promise<Providers> {
  const { config, store, logger, metrics, templates, now } = options;
  const channels: Channel[] = [];
  const mounts: Mount[] = [];
  const notes: string[] = [];
  const starts: (() => void)[] = [];
  const stops: (() => Promise<void>)[] = [];
  let telegramLinker: TelegramLinker | undefined;
  const retry: RetryPolicy = config.retry;

  const record = (deliveryId: string, event: Parameters<Store["appendDeliveryEvent"]>[1]) =>
    store.appendDeliveryEvent(deliveryId, event).catch((err: unknown) => {
      logger.warn({ err, delivery_id: deliveryId }, "recording a delivery event failed");
    });

  if (config.telegram !== undefined) {
    // Each provider's SDK is loaded only when it is configured: an unused
    // one would cost its memory in every process.
    const [
      { createSelfDestruct, createTelegramDeleter },
      {
        createTelegramWebhookHandler,
        installTelegramBotHandlers,
        registerTelegramWebhook,
        startTelegramPolling,
        telegramDeepLink,
      },
      { createGrammyBot, createTelegramChannel, telegramErrorFields },
    ] = await Promise.all([
      import("../delivery/telegram/self-destruct.js"),
      import("../delivery/telegram/telegram-bot.js"),
      import("../delivery/telegram/telegram-channel.js"),
    ]);
    const tg = config.telegram;
    const { vault } = options;
    const chatBox = {
      seal: (chatId: string) => vault.seal(chatId, "telegram-chat"),
      // Links and queue items stored before sealing hold the chat id as it is.
      open: (stored: string) => (isSealed(stored) ? vault.open(stored, "telegram-chat") : stored),
    };
    const bot = createGrammyBot({
      token: tg.botToken,
      apiRoot: tg.apiRoot,
      requestTimeoutMs: config.providerTimeoutMs,
    });
    const queue: DeletionQueue =
      options.redis === undefined
        ? createMemoryDeletionQueue({ leaseMs: tg.deleteLeaseMs })
        : createRedisDeletionQueue({
            topology: options.redis.topology,
            keyPrefix: options.redis.keyPrefix,
            leaseMs: tg.deleteLeaseMs,
          });
    const links: TelegramLinks = scopeAccountsToTenant(
      options.redis === undefined
        ? createMemoryTelegramLinks({ linkTtlMs: tg.linkTtlMs, now })
        : createRedisTelegramLinks({
            topology: options.redis.topology,
            keyPrefix: options.redis.keyPrefix,
            linkTtlMs: tg.linkTtlMs,
            phoneKeyNames: (phone) => [
              ...vault.indexes("telegram-phone", phone),
              ...options.hasher.digests("telegram-phone", phone),
            ],
            chatBox,
          }),
    );
    installTelegramBotHandlers(bot, {
      links,
      onLinked: (e) =>
        logger.info(
          e.kind === "phone"
            ? { link: "phone", phone: maskRecipient(e.phone) }
            : { link: "account" },
          "telegram chat linked",
        ),
      onError: (err) => logger.warn(telegramErrorFields(err), "telegram bot handler failed"),
    });
    const selfDestruct: SelfDestruct = createSelfDestruct({
      queue,
      deleteMessage: createTelegramDeleter(bot.api, chatBox.open),
      intervalMs: tg.deletePollMs,
      requestTimeoutMs: config.providerTimeoutMs,
      now,
      onOutcome: (outcome) => {
        const id = outcome.item.deliveryId;
        switch (outcome.kind) {
          case "deleted":
            metrics.delivery("telegram", "deleted");
            void record(id, { status: "deleted", atMs: now(), reason: "", attempt: 0 });
            return;
          case "failed":
            metrics.delivery("telegram", "delete_failed");
            logger.warn({ delivery_id: id, reason: outcome.error.reason }, "self-destruct failed");
            void record(id, {
              status: "failed",
              atMs: now(),
              reason: "SELF_DESTRUCT_FAILED",
              attempt: 0,
            });
            return;
          case "retrying":
            logger.info(
              { delivery_id: id, reason: outcome.error.reason, retry_at: outcome.retryAtMs },
              "self-destruct will retry",
            );
        }
      },
      onError: (err) => logger.warn({ err }, "self-destruct queue unavailable"),
    });
    channels.push(
      createTelegramChannel({
        api: bot.api,
        links,
        deletionQueue: queue,
        sealChat: chatBox.seal,
        templates,
        retry,
        now,
        onDeletionScheduled: (dueMs) => selfDestruct.wake(dueMs),
      }),
    );
    starts.push(() => selfDestruct.start());
    stops.push(() => selfDestruct.stop());

    telegramLinker = {
      async create(accountId) {
        if (!bot.isInited()) await bot.init();
        const ttlMs = tg.linkTokenTtlSeconds * 1000;
        const token = await links.createLinkToken(accountId, ttlMs);
        return { url: telegramDeepLink(bot.botInfo.username, token), expiresAtMs: now() + ttlMs };
      },
    };

    if (tg.updates === "webhook" && tg.webhookUrl !== undefined && tg.webhookSecret !== undefined) {
      const { webhookUrl, webhookSecret } = tg;
      mounts.push({
        path: new URL(webhookUrl).pathname,
        handler: createTelegramWebhookHandler(bot, { secretToken: webhookSecret }),
      });
      notes.push(`telegram   webhook at ${new URL(webhookUrl).pathname}`);
      if (options.leader) {
        const controller = new AbortController();
        starts.push(() => {
          void registerWithRetries(
            () => registerTelegramWebhook(bot, { url: webhookUrl, secretToken: webhookSecret }),
            controller.signal,
            (err, attempt) =>
              logger.warn(
                { ...telegramErrorFields(err), attempt },
                "telegram webhook registration failed; retrying",
              ),
            () => logger.info("telegram webhook registered"),
          );
        });
        stops.push(async () => controller.abort());
      }
    } else if (tg.updates === "polling") {
      notes.push(
        options.leader ? "telegram   long polling" : "telegram   long polling (in worker 1)",
      );
      if (options.leader) {
        let polling: TelegramPolling | undefined;
        starts.push(() => {
          polling = startTelegramPolling(bot, {
            onError: (err) => logger.warn(telegramErrorFields(err), "telegram polling stopped"),
          });
          polling.started.catch(() => {});
        });
        stops.push(async () => {
          await polling?.stop().catch(() => {});
        });
      }
    } else {
      notes.push("telegram   updates off (no /start, no linking)");
    }
  }

  let twilioReports = false;
  if (config.twilio !== undefined) {
    const [
      { createTwilioChannel, createTwilioClient },
      { createTwilioStatusHandler, twilioFailureReason },
    ] = await Promise.all([
      import("../delivery/twilio/twilio-channel.js"),
      import("../delivery/twilio/twilio-status.js"),
    ]);
    const tw = config.twilio;
    const client = createTwilioClient({
      accountSid: tw.accountSid,
      authToken: tw.authToken,
      baseUrl: tw.baseUrl,
      requestTimeoutMs: config.providerTimeoutMs,
    });
    const common = {
      client,
      statusCallbackUrl: tw.statusCallbackUrl,
      templates,
      retry,
    };
    if (tw.smsFrom !== undefined || tw.messagingServiceSid !== undefined) {
      channels.push(
        createTwilioChannel({
          ...common,
          kind: "sms",
          from: tw.smsFrom,
          messagingServiceSid: tw.messagingServiceSid,
          phonePolicy: options.recipients.sms,
        }),
      );
    }
    if (tw.whatsappFrom !== undefined) {
      channels.push(
        createTwilioChannel({
          ...common,
          kind: "whatsapp",
          from: tw.whatsappFrom,
          whatsappContentSid: tw.whatsappContentSid,
          phonePolicy: options.recipients.whatsapp,
        }),
      );
    }
    if (tw.statusCallbackUrl !== undefined) {
      twilioReports = true;
      mounts.push({
        path: new URL(tw.statusCallbackUrl).pathname,
        handler: createTwilioStatusHandler({
          authToken: tw.authToken,
          publicUrl: tw.statusCallbackUrl,
          async onStatus(e) {
            const current = await store.getDelivery(e.deliveryId, now());
            // Forgotten, or a SID that is not this delivery's: acknowledged and dropped.
            if (current === undefined) return;
            if (
              current.providerMessageId !== "" &&
              current.providerMessageId !== e.providerMessageId
            ) {
              return;
            }
            // Twilio repeats and reorders callbacks; only news is recorded.
            if (!advancesStatus(deliveryStatusOf(current.events), e.status)) return;
            await store.appendDeliveryEvent(
              e.deliveryId,
              {
                status: e.status,
                atMs: now(),
                reason: e.status === "failed" ? twilioFailureReason(e.errorCode) : "",
                attempt: 0,
              },
              e.providerMessageId,
            );
            if (e.status === "delivered" || e.status === "failed") {
              metrics.delivery(e.channel, e.status === "delivered" ? "delivered" : "undelivered");
            }
          },
        }),
      });
      notes.push(`twilio     status callbacks at ${new URL(tw.statusCallbackUrl).pathname}`);
    }
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
    mounts,
    telegramLinker,
    reportsStatus: (channel) => twilioReports && (channel === "sms" || channel === "whatsapp"),
    notes,
    start() {
      for (const start of starts) start();
    },
    async stop() {
      await Promise.all(stops.map((stop) => stop()));
    },
  };
}

// Registering the webhook needs Telegram to answer; the service starts without waiting.
async function registerWithRetries(
  register: () => Promise<void>,
  signal: AbortSignal,
  onFailure: (err: unknown, attempt: number) => void,
  onSuccess: () => void,
): Promise<void> {
  for (let attempt = 1; !signal.aborted; attempt++) {
    try {
      await register();
      onSuccess();
      return;
    } catch (err) {
      onFailure(err, attempt);
      try {
        await sleep(Math.min(60_000, 1000 * 2 ** Math.min(attempt, 6)), undefined, {
          signal,
          ref: false,
        });
      } catch {
        return;
      }
    }
  }
}
