import type { IncomingMessage, ServerResponse } from "node:http";
import { type Bot, Keyboard, webhookCallback } from "grammy";
import { maskRecipient } from "../mask.js";
import { phoneFromTelegramContact } from "../phone.js";
import { isLinkTokenShape, type TelegramLinks } from "./telegram-links.js";

/** A chat the bot linked. */
export type TelegramLinkEvent =
  | { kind: "phone"; chatId: string; phone: string }
  | { kind: "account"; chatId: string; accountId: string };

/** Options for {@link installTelegramBotHandlers}. */
export interface TelegramBotOptions {
  links: TelegramLinks;
  /** Called after each link is stored, for logs and metrics. */
  onLinked?: (event: TelegramLinkEvent) => void;
  /** Receives errors of the handlers (for example the store being down); the user is asked to try again. */
  onError?: (err: unknown) => void;
}

interface BotTexts {
  welcome: string;
  shareButton: string;
  phoneLinked: (maskedPhone: string) => string;
  notOwnContact: string;
  phoneInvalid: string;
  accountLinked: string;
  linkInvalid: string;
  tryAgain: string;
}

const texts: Record<string, BotTexts> = {
  en: {
    welcome:
      "Hi! I deliver your sign-in codes.\n\nTo get codes sent to your phone number here, tap “Share my phone number” below. I only accept your own number, and I will never message you anything else.",
    shareButton: "Share my phone number",
    phoneLinked: (phone) =>
      `Done: codes for ${phone} will arrive in this chat. Never share a code with anyone.`,
    notOwnContact: "Please share your own phone number with the button below, not someone else's.",
    phoneInvalid: "That phone number does not look valid. Please try again.",
    accountLinked: "Done: this chat is now linked to your account.",
    linkInvalid:
      "This link has expired or was already used. Please ask for a new one where you started.",
    tryAgain: "Something went wrong on our side. Please try again in a minute.",
  },
  es: {
    welcome:
      "¡Hola! Te envío tus códigos de acceso.\n\nPara recibir aquí los códigos de tu número de teléfono, pulsa «Compartir mi número» abajo. Solo acepto tu propio número y nunca te enviaré otra cosa.",
    shareButton: "Compartir mi número",
    phoneLinked: (phone) =>
      `Listo: los códigos para ${phone} llegarán a este chat. No compartas nunca un código con nadie.`,
    notOwnContact: "Comparte tu propio número con el botón de abajo, no el de otra persona.",
    phoneInvalid: "Ese número no parece válido. Inténtalo de nuevo.",
    accountLinked: "Listo: este chat está vinculado a tu cuenta.",
    linkInvalid: "Este enlace ha caducado o ya se usó. Pide uno nuevo donde empezaste.",
    tryAgain: "Algo ha fallado por nuestra parte. Inténtalo de nuevo en un minuto.",
  },
  de: {
    welcome:
      "Hallo! Ich stelle dir deine Anmeldecodes zu.\n\nUm Codes für deine Telefonnummer hier zu erhalten, tippe unten auf „Meine Nummer teilen“. Ich akzeptiere nur deine eigene Nummer und schicke dir nie etwas anderes.",
    shareButton: "Meine Nummer teilen",
    phoneLinked: (phone) =>
      `Erledigt: Codes für ${phone} kommen jetzt in diesem Chat an. Gib einen Code niemals weiter.`,
    notOwnContact:
      "Bitte teile mit der Schaltfläche unten deine eigene Nummer, nicht die einer anderen Person.",
    phoneInvalid: "Diese Telefonnummer scheint ungültig zu sein. Bitte versuche es erneut.",
    accountLinked: "Erledigt: Dieser Chat ist jetzt mit deinem Konto verknüpft.",
    linkInvalid:
      "Dieser Link ist abgelaufen oder wurde schon benutzt. Bitte fordere dort, wo du begonnen hast, einen neuen an.",
    tryAgain: "Bei uns ist etwas schiefgelaufen. Bitte versuche es in einer Minute erneut.",
  },
};

function textsFor(languageCode: string | undefined): BotTexts {
  const language = (languageCode ?? "en").split("-")[0]?.toLowerCase() ?? "en";
  return texts[language] ?? (texts.en as BotTexts);
}

/**
 * Teaches a grammy bot to link chats, in private chats only:
 *
 * - `/start` answers with instructions and a button that shares the user's
 *   phone number.
 * - A shared contact is accepted only when it is the sender's own
 *   (`contact.user_id === from.id`; Telegram vouches for that number), and
 *   links its E.164 number to the chat, so the number becomes a valid
 *   Telegram recipient.
 * - `/start <token>` (from a deep link `https://t.me/<bot>?start=<token>`)
 *   consumes a single-use token made by `TelegramLinks.createLinkToken` and
 *   links the chat to the token's account id.
 *
 * Replies follow the user's Telegram language (English, Spanish, German).
 * Call it before the bot starts polling or serving a webhook.
 */
export function installTelegramBotHandlers(bot: Bot, options: TelegramBotOptions): void {
  const { links } = options;
  const handlers = bot
    .errorBoundary(async (err) => {
      options.onError?.(err.error);
      await err.ctx.reply(textsFor(err.ctx.from?.language_code).tryAgain).catch(() => {});
    })
    .chatType("private");

  handlers.command("start", async (ctx) => {
    const t = textsFor(ctx.from.language_code);
    const payload = ctx.match.trim();
    if (payload === "") {
      const keyboard = new Keyboard().requestContact(t.shareButton).oneTime().resized();
      await ctx.reply(t.welcome, { reply_markup: keyboard });
      return;
    }
    const accountId = isLinkTokenShape(payload) ? await links.redeemLinkToken(payload) : undefined;
    if (accountId === undefined) {
      await ctx.reply(t.linkInvalid);
      return;
    }
    const chatId = String(ctx.chat.id);
    await links.linkAccount(accountId, chatId);
    options.onLinked?.({ kind: "account", chatId, accountId });
    await ctx.reply(t.accountLinked);
  });

  handlers.on("message:contact", async (ctx) => {
    const t = textsFor(ctx.from.language_code);
    const contact = ctx.message.contact;
    if (contact.user_id === undefined || contact.user_id !== ctx.from.id) {
      await ctx.reply(t.notOwnContact);
      return;
    }
    const phone = phoneFromTelegramContact(contact.phone_number);
    if (phone === undefined) {
      await ctx.reply(t.phoneInvalid);
      return;
    }
    const chatId = String(ctx.chat.id);
    await links.link(phone, chatId);
    options.onLinked?.({ kind: "phone", chatId, phone });
    await ctx.reply(t.phoneLinked(maskRecipient(phone)), {
      reply_markup: { remove_keyboard: true },
    });
  });
}

/**
 * A deep link that opens the bot and sends `/start <token>`.
 *
 * @example
 * telegramDeepLink("acme_login_bot", token); // "https://t.me/acme_login_bot?start=..."
 */
export function telegramDeepLink(botUsername: string, token: string): string {
  return `https://t.me/${encodeURIComponent(botUsername.replace(/^@/, ""))}?start=${token}`;
}

/** Options for {@link createTelegramWebhookHandler}. */
export interface TelegramWebhookOptions {
  /**
   * The secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token` (1 to 256
   * characters of A-Z, a-z, 0-9, _ and -), as given to `setWebhook`.
   */
  secretToken: string;
  /** How long an update may be handled before Telegram gets its answer anyway; 10 s by default. */
  timeoutMs?: number;
}

const secretShape = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * A Node http handler for Telegram's webhook, built on grammy's
 * `webhookCallback`: it answers 401 unless the secret-token header matches
 * (compared in constant time), 405 to anything but POST, 400 to a body that
 * is not JSON, and 200 once the update is handled. Mount it at a secret path
 * of our own port; the webhook is registered with {@link registerTelegramWebhook}.
 */
export function createTelegramWebhookHandler(
  bot: Bot,
  options: TelegramWebhookOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  if (!secretShape.test(options.secretToken)) {
    throw new Error(
      "telegram webhook: the secret token must be 1-256 characters of A-Z, a-z, 0-9, _ and -",
    );
  }
  const callback = webhookCallback(bot, "http", {
    secretToken: options.secretToken,
    // Answer Telegram in time even if a handler is slow, or it sends the update again.
    onTimeout: "return",
    timeoutMilliseconds: options.timeoutMs ?? 10_000,
  });
  return async (req, res) => {
    if (req.method !== "POST") {
      res.writeHead(405, { allow: "POST" }).end();
      return;
    }
    try {
      await callback(req, res);
    } catch (err) {
      if (res.headersSent) return;
      // A body that is not JSON is the sender's fault; anything else (getMe failing) is ours.
      res.writeHead(err instanceof SyntaxError ? 400 : 500).end();
    }
  };
}

/** Options for {@link registerTelegramWebhook}. */
export interface RegisterWebhookOptions {
  /** The public HTTPS URL of the webhook handler. */
  url: string;
  secretToken: string;
  /** Drops updates that piled up while no webhook was set. */
  dropPendingUpdates?: boolean;
}

/** Tells Telegram to send updates to our webhook, with the secret token and only the updates we handle. */
export async function registerTelegramWebhook(
  bot: Bot,
  options: RegisterWebhookOptions,
): Promise<void> {
  await bot.api.setWebhook(options.url, {
    secret_token: options.secretToken,
    allowed_updates: ["message"],
    drop_pending_updates: options.dropPendingUpdates ?? false,
  });
}

/** A running long-polling loop. */
export interface TelegramPolling {
  /** Resolves once polling has started (the webhook was removed). */
  readonly started: Promise<void>;
  /** Stops polling, confirming the updates handled so far. */
  stop(): Promise<void>;
}

/** Options for {@link startTelegramPolling}. */
export interface TelegramPollingOptions {
  /** Long-poll timeout in seconds; 30 by default. */
  timeoutSeconds?: number;
  dropPendingUpdates?: boolean;
  /** Receives errors that end polling (for example a second poller with the same token). */
  onError?: (err: unknown) => void;
}

/**
 * Receives updates by long polling, for development: no public URL needed.
 * Starting removes any webhook. Only one process may poll per bot token.
 */
export function startTelegramPolling(
  bot: Bot,
  options: TelegramPollingOptions = {},
): TelegramPolling {
  let resolveStarted: () => void = () => {};
  let rejectStarted: (err: unknown) => void = () => {};
  const started = new Promise<void>((resolve, reject) => {
    resolveStarted = resolve;
    rejectStarted = reject;
  });
  bot.catch((err) => options.onError?.(err.error));
  bot
    .start({
      timeout: options.timeoutSeconds ?? 30,
      allowed_updates: ["message"],
      drop_pending_updates: options.dropPendingUpdates ?? false,
      onStart: () => resolveStarted(),
    })
    .catch((err: unknown) => {
      rejectStarted(err);
      options.onError?.(err);
    });
  return {
    started,
    stop: () => bot.stop(),
  };
}
