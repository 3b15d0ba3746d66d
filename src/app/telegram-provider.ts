import { setTimeout as sleep } from "node:timers/promises";
import type { TelegramConfig } from "../config/index.js";
import { isSealed } from "../core/recipient-vault.js";
import { maskRecipient } from "../delivery/mask.js";
import type { DeletionQueue } from "../delivery/telegram/deletion-queue.js";
import type { DeletionOutcome, SelfDestruct } from "../delivery/telegram/self-destruct.js";
import type { TelegramPolling } from "../delivery/telegram/telegram-bot.js";
import { type TelegramLinks, tenantAccountId } from "../delivery/telegram/telegram-links.js";
import { createMemoryDeletionQueue } from "../store/memory/deletion-queue.js";
import { createMemoryTelegramLinks } from "../store/memory/telegram-links.js";
import { createRedisDeletionQueue } from "../store/redis/deletion-queue.js";
import { createRedisTelegramLinks } from "../store/redis/telegram-links.js";
import type { ProviderParts, ProvidersOptions } from "./provider-parts.js";

/**
 * Wires the Telegram channel (grammy, loaded only here): the bot, its
 * deletion queue and links (in the store's Redis, or in memory), the
 * self-destruct worker, deep links, and how updates arrive (webhook on our
 * port, long polling in the leader, or off).
 */
export async function wireTelegram(
  telegram: TelegramConfig,
  options: ProvidersOptions,
  parts: ProviderParts,
): Promise<void> {
  const { config, logger, templates, now } = options;
  const retry = config.retry;
  // Each provider's SDK is loaded only when it is configured: an unused
  // one would cost its memory in every process.
  const [
    { createSelfDestruct, createTelegramDeleter },
    botModule,
    { createGrammyBot, createTelegramChannel, telegramErrorFields },
  ] = await Promise.all([
    import("../delivery/telegram/self-destruct.js"),
    import("../delivery/telegram/telegram-bot.js"),
    import("../delivery/telegram/telegram-channel.js"),
  ]);
  const tg = telegram;
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
  const { queue, links } = telegramState(tg, options, chatBox);
  botModule.installTelegramBotHandlers(bot, {
    links,
    onLinked: (e) =>
      logger.info(
        e.kind === "phone" ? { link: "phone", phone: maskRecipient(e.phone) } : { link: "account" },
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
    onOutcome: recordOutcome(options, parts),
    onError: (err) => logger.warn({ err }, "self-destruct queue unavailable"),
  });
  parts.channels.push(
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
  parts.starts.push(() => selfDestruct.start());
  parts.stops.push(() => selfDestruct.stop());

  parts.telegramLinker = {
    async create(accountId, tenantId) {
      if (!bot.isInited()) await bot.init();
      const ttlMs = tg.linkTokenTtlSeconds * 1000;
      const token = await links.createLinkToken(tenantAccountId(tenantId, accountId), ttlMs);
      return {
        url: botModule.telegramDeepLink(bot.botInfo.username, token),
        expiresAtMs: now() + ttlMs,
      };
    },
  };

  wireUpdates(tg, bot, { ...botModule, telegramErrorFields }, options, parts);
}

type BotModule = typeof import("../delivery/telegram/telegram-bot.js") & {
  telegramErrorFields: (err: unknown) => Record<string, unknown>;
};

// How updates (/start, shared contacts) arrive: a webhook on our port whose
// registration the leader retries, long polling in the leader, or not at all.
function wireUpdates(
  tg: TelegramConfig,
  bot: Parameters<BotModule["createTelegramWebhookHandler"]>[0],
  m: BotModule,
  options: ProvidersOptions,
  parts: ProviderParts,
): void {
  const { logger } = options;
  if (tg.updates === "webhook" && tg.webhookUrl !== undefined && tg.webhookSecret !== undefined) {
    const { webhookUrl, webhookSecret } = tg;
    parts.mounts.push({
      path: new URL(webhookUrl).pathname,
      handler: m.createTelegramWebhookHandler(bot, { secretToken: webhookSecret }),
    });
    parts.notes.push(`telegram   webhook at ${new URL(webhookUrl).pathname}`);
    if (options.leader) {
      const controller = new AbortController();
      parts.starts.push(() => {
        void registerWithRetries(
          () => m.registerTelegramWebhook(bot, { url: webhookUrl, secretToken: webhookSecret }),
          controller.signal,
          (err, attempt) =>
            logger.warn(
              { ...m.telegramErrorFields(err), attempt },
              "telegram webhook registration failed; retrying",
            ),
          () => logger.info("telegram webhook registered"),
        );
      });
      parts.stops.push(async () => controller.abort());
    }
  } else if (tg.updates === "polling") {
    parts.notes.push(
      options.leader ? "telegram   long polling" : "telegram   long polling (in worker 1)",
    );
    if (options.leader) {
      let polling: TelegramPolling | undefined;
      parts.starts.push(() => {
        polling = m.startTelegramPolling(bot, {
          onError: (err) => logger.warn(m.telegramErrorFields(err), "telegram polling stopped"),
        });
        polling.started.catch(() => {});
      });
      parts.stops.push(async () => {
        await polling?.stop().catch(() => {});
      });
    }
  } else {
    parts.notes.push("telegram   updates off (no /start, no linking)");
  }
}

type ChatBox = { seal(chatId: string): string; open(stored: string): string };

// Where the deletion queue and the links live: the store's Redis (every
// replica shares them), or this process's memory.
function telegramState(
  tg: TelegramConfig,
  options: ProvidersOptions,
  chatBox: ChatBox,
): { queue: DeletionQueue; links: TelegramLinks } {
  const { vault, now } = options;
  const queue: DeletionQueue =
    options.redis === undefined
      ? createMemoryDeletionQueue({ leaseMs: tg.deleteLeaseMs })
      : createRedisDeletionQueue({
          topology: options.redis.topology,
          keyPrefix: options.redis.keyPrefix,
          leaseMs: tg.deleteLeaseMs,
        });
  const links: TelegramLinks =
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
        });
  return { queue, links };
}

// Counts and records what became of each self-destruct deletion.
function recordOutcome(
  options: ProvidersOptions,
  parts: ProviderParts,
): (outcome: DeletionOutcome) => void {
  const { logger, metrics, now } = options;
  return (outcome) => {
    const id = outcome.item.deliveryId;
    switch (outcome.kind) {
      case "deleted":
        metrics.delivery("telegram", "deleted");
        void parts.record(id, { status: "deleted", atMs: now(), reason: "", attempt: 0 });
        return;
      case "failed":
        metrics.delivery("telegram", "delete_failed");
        logger.warn({ delivery_id: id, reason: outcome.error.reason }, "self-destruct failed");
        void parts.record(id, {
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
