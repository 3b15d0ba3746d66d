import { context, propagation } from "@opentelemetry/api";
import { type Api, Bot, GrammyError, HttpError } from "grammy";
import type { UserFromGetMe } from "grammy/types";
import type { Channel, OutgoingMessage, SendOptions, SendReceipt } from "../channel.js";
import { DeliveryError } from "../delivery-error.js";
import { createOutageTracker } from "../outage-tracker.js";
import { telegramAccountPrefix } from "../recipients.js";
import { defaultRetryPolicy, narrowPolicy, type RetryPolicy, withRetry } from "../retry.js";
import { createTemplates, type Templates } from "../templates.js";
import type { DeletionItem, DeletionQueue } from "./deletion-queue.js";
import { type TelegramLinks, tenantAccountId } from "./telegram-links.js";

/** grammy types its signals with the abort-controller polyfill; the native one works the same. */
type GrammySignal = Parameters<Api["deleteMessage"]>[2];

/** Adapts a native `AbortSignal` to grammy's parameter type. */
export function grammySignal(signal: AbortSignal): GrammySignal {
  return signal as unknown as GrammySignal;
}

/** Options for {@link createGrammyBot}. */
export interface GrammyBotOptions {
  /** The bot token from @BotFather. */
  token: string;
  /** The Bot API server, without a trailing slash; https://api.telegram.org by default. */
  apiRoot?: string;
  /** The longest one Bot API call may take, in milliseconds; 10 seconds by default. */
  requestTimeoutMs?: number;
  /** The bot's own user, to skip the `getMe` call on start-up (tests set it). */
  botInfo?: UserFromGetMe;
}

/**
 * Creates the grammy `Bot` that both the channel (sending and deleting) and
 * the bot handlers (/start, contacts) use. `apiRoot` points it at another Bot
 * API server, such as a local fake in tests or a self-hosted server.
 *
 * @example
 * const bot = createGrammyBot({ token: process.env.TELEGRAM_BOT_TOKEN, apiRoot: "http://127.0.0.1:8081" });
 */
export function createGrammyBot(options: GrammyBotOptions): Bot {
  const timeoutMs = options.requestTimeoutMs ?? 10_000;
  return new Bot(options.token, {
    botInfo: options.botInfo,
    client: {
      apiRoot: options.apiRoot?.replace(/\/+$/, ""),
      // grammy's own timeout is in seconds; the retry signal cuts calls shorter when needed.
      timeoutSeconds: Math.max(1, Math.ceil(timeoutMs / 1000)),
    },
  });
}

/** Options for {@link createTelegramChannel}. */
export interface TelegramChannelOptions {
  /** The Bot API client; `bot.api` of {@link createGrammyBot}. */
  api: Api;
  /** Resolves E.164 phone recipients to chats; without it, phone recipients fail as not linked. */
  links?: TelegramLinks;
  /** Where self-destructing messages are scheduled; without it, such sends fail. */
  deletionQueue?: DeletionQueue;
  /**
   * Seals the chat id of a deletion-queue item, so that a shared queue holds
   * no chat id in the clear; the deleter opens it. Kept as it is by default.
   */
  sealChat?: (chatId: string) => string;
  /** Called after a deletion was scheduled, for example to wake the self-destruct poller. */
  onDeletionScheduled?: (dueMs: number) => void;
  templates?: Templates;
  retry?: RetryPolicy;
  now?: () => number;
  /** For the retry jitter in tests. */
  random?: (maxExclusive: number) => number;
}

const phone = /^\+[1-9]\d{6,14}$/;

/**
 * The Telegram channel. A recipient is a chat id, an @username (public
 * channels and groups only: the Bot API cannot open a chat with a user by
 * name), an E.164 phone number linked to a chat through the bot, or
 * `account:<id>` for an account linked through a deep link. Messages
 * are sent with `protect_content`, so they cannot be forwarded or saved, and
 * a self-destructing message is put in the deletion queue once sent.
 */
export function createTelegramChannel(options: TelegramChannelOptions): Channel {
  const state: ChannelState = {
    options,
    now: options.now ?? Date.now,
    templates: options.templates ?? createTemplates(),
    policy: options.retry ?? defaultRetryPolicy,
    outage: createOutageTracker(),
  };
  return {
    kind: "telegram",
    description: "Telegram bot",
    async send(
      message: OutgoingMessage,
      deliveryId: string,
      sendOptions: SendOptions = {},
    ): Promise<SendReceipt> {
      try {
        const receipt = await sendMessage(state, message, deliveryId, sendOptions);
        state.outage.succeeded();
        return receipt;
      } catch (err) {
        if (err instanceof DeliveryError) state.outage.failed(err);
        throw err;
      }
    },
    healthy: async () => state.outage.healthy(),
    // The bot deletes its own message: the chat and message id are the provider's id.
    async withdraw(providerMessageId) {
      const colon = providerMessageId.lastIndexOf(":");
      const messageId = Number(providerMessageId.slice(colon + 1));
      if (colon <= 0 || !Number.isSafeInteger(messageId)) return false;
      try {
        return await options.api.deleteMessage(providerMessageId.slice(0, colon), messageId);
      } catch (err) {
        // Already deleted, or older than Telegram lets a bot delete (48 hours): nothing to take back.
        if (err instanceof GrammyError && err.error_code === 400) return false;
        throw err;
      }
    },
  };
}

// What the channel's functions share, resolved from the options once.
interface ChannelState {
  options: TelegramChannelOptions;
  now: () => number;
  templates: Templates;
  policy: RetryPolicy;
  outage: ReturnType<typeof createOutageTracker>;
}

// Sends with retries, then schedules the deletion of a self-destructing message.
async function sendMessage(
  state: ChannelState,
  message: OutgoingMessage,
  deliveryId: string,
  sendOptions: SendOptions,
): Promise<SendReceipt> {
  const { options } = state;
  if (message.selfDestructSeconds > 0 && options.deletionQueue === undefined) {
    throw new DeliveryError("telegram", "SELF_DESTRUCT_UNAVAILABLE", { retryable: false });
  }
  const chatId = await resolveChat(options.links, message.recipient, message.tenantId);
  const text =
    message.code === undefined
      ? message.text
      : state.templates.render("telegram", message.code).text;
  let attempts = 0;
  const sent = await withRetry(
    async ({ signal, attempt }) => {
      attempts = attempt;
      try {
        return await options.api.sendMessage(
          chatId,
          text,
          { protect_content: true, link_preview_options: { is_disabled: true } },
          grammySignal(signal),
        );
      } catch (err) {
        throw classifyTelegramError(err);
      }
    },
    narrowPolicy(state.policy, sendOptions),
    {
      channel: "telegram",
      random: options.random,
      onRetry: sendOptions.onRetry,
      signal: sendOptions.signal,
    },
  );
  // Telegram numbers messages per chat, so the chat is part of a unique id.
  const receipt: SendReceipt = {
    providerMessageId: `${sent.chat.id}:${sent.message_id}`,
    status: "sent",
    attempts,
  };
  if (message.selfDestructSeconds > 0 && options.deletionQueue !== undefined) {
    const item: DeletionItem = {
      chatId: String(sent.chat.id),
      messageId: sent.message_id,
      deliveryId,
      // The deletion runs later, elsewhere; its span links back to this trace.
      ...currentTraceparent(),
    };
    const dueMs = state.now() + message.selfDestructSeconds * 1000;
    await scheduleDeletion(options, options.deletionQueue, item, dueMs);
    receipt.deleteAtMs = dueMs;
  }
  return receipt;
}

// Puts a sent message in the deletion queue, its chat id sealed; when that
// fails, the message is deleted at once and the send fails.
async function scheduleDeletion(
  options: TelegramChannelOptions,
  queue: DeletionQueue,
  sent: DeletionItem,
  dueMs: number,
): Promise<void> {
  const item = { ...sent, chatId: options.sealChat?.(sent.chatId) ?? sent.chatId };
  try {
    await queue.schedule(item, dueMs);
  } catch {
    // A code promised to vanish must not linger: take it back now.
    await options.api.deleteMessage(sent.chatId, item.messageId).catch(() => {});
    throw new DeliveryError("telegram", "SELF_DESTRUCT_UNAVAILABLE", { retryable: false });
  }
  options.onDeletionScheduled?.(dueMs);
}

// A phone number or `account:<id>` becomes its linked chat; anything else is a chat already.
// An account is the sending tenant's own (telegram-links.ts).
async function resolveChat(
  links: TelegramLinks | undefined,
  recipient: string,
  tenantId: string | undefined,
): Promise<string> {
  const account = recipient.startsWith(telegramAccountPrefix)
    ? recipient.slice(telegramAccountPrefix.length)
    : undefined;
  if (account === undefined && !phone.test(recipient)) return recipient;
  let chatId: string | undefined;
  try {
    chatId =
      account === undefined
        ? await links?.chatFor(recipient)
        : await links?.chatForAccount(tenantAccountId(tenantId, account));
  } catch {
    throw new DeliveryError("telegram", "RECIPIENT_LOOKUP_FAILED", { retryable: true });
  }
  if (chatId === undefined) {
    throw new DeliveryError("telegram", "RECIPIENT_NOT_LINKED", { retryable: false });
  }
  return chatId;
}

/** The W3C traceparent of the active span, when tracing is on. */
function currentTraceparent(): { traceparent?: string } {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  return carrier.traceparent === undefined ? {} : { traceparent: carrier.traceparent };
}

/**
 * Classifies an error from a grammy Bot API call: network failures, 429 (with
 * its `retry_after`) and 5xx are retryable; "chat not found", a bot blocked by
 * the user and other 4xx are permanent.
 */
export function classifyTelegramError(err: unknown): DeliveryError {
  if (err instanceof GrammyError) {
    const status = err.error_code;
    const description = err.description.toLowerCase();
    const base = { httpStatus: status };
    if (status === 429) {
      const retryAfter = err.parameters.retry_after;
      return new DeliveryError("telegram", "PROVIDER_RATE_LIMITED", {
        ...base,
        retryable: true,
        retryAfterMs: retryAfter === undefined ? undefined : retryAfter * 1000,
      });
    }
    if (status >= 500) {
      return new DeliveryError("telegram", "PROVIDER_UNAVAILABLE", { ...base, retryable: true });
    }
    if (status === 401 || status === 404) {
      // The Bot API answers 401 or 404 to a wrong token.
      return new DeliveryError("telegram", "PROVIDER_AUTH_FAILED", { ...base, retryable: false });
    }
    if (description.includes("chat not found") || description.includes("user not found")) {
      return new DeliveryError("telegram", "RECIPIENT_NOT_FOUND", { ...base, retryable: false });
    }
    if (status === 403) {
      // "bot was blocked by the user", "user is deactivated", "bot can't initiate conversation".
      return new DeliveryError("telegram", "RECIPIENT_UNREACHABLE", { ...base, retryable: false });
    }
    return new DeliveryError("telegram", "PROVIDER_REJECTED", { ...base, retryable: false });
  }
  if (err instanceof HttpError) {
    return new DeliveryError("telegram", "PROVIDER_UNAVAILABLE", { retryable: true });
  }
  return new DeliveryError("telegram", "INTERNAL", { retryable: false });
}

/**
 * What may be logged of an error from the Bot API: a grammy network error
 * nests the fetch error, whose message holds the request URL, and the Bot
 * API URL holds the bot token, so its classification is logged instead.
 */
export function telegramErrorFields(err: unknown): Record<string, unknown> {
  if (err instanceof GrammyError || err instanceof HttpError) {
    return { error: classifyTelegramError(err).message };
  }
  return { err };
}
