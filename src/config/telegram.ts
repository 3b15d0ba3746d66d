import { type Area, type Context, choice, integer, text, url, type Values } from "./schema.js";

/** How Telegram updates reach the bot. */
export type TelegramUpdates = "webhook" | "polling" | "off";

/** The Telegram channel and bot (grammy). */
export interface TelegramConfig {
  botToken: string;
  /** Another Bot API server (self-hosted, or a fake in tests); Telegram's own when undefined. */
  apiRoot: string | undefined;
  updates: TelegramUpdates;
  /** The public HTTPS URL Telegram posts updates to; its path is served on our port. */
  webhookUrl: string | undefined;
  /** The secret Telegram sends in X-Telegram-Bot-Api-Secret-Token. */
  webhookSecret: string | undefined;
  /** Applied when a Telegram target asks for 0; 0 keeps messages. */
  selfDestructDefaultSeconds: number;
  deletePollMs: number;
  deleteLeaseMs: number;
  linkTtlMs: number;
  linkTokenTtlSeconds: number;
}

const needsToken = ["TELEGRAM_BOT_TOKEN"];

/** The Telegram channel: turned on by its bot token. */
export const telegramVariables = {
  TELEGRAM_BOT_TOKEN: text({
    secret: true,
    pattern: /^\d{1,20}:[A-Za-z0-9_-]{1,200}$/,
    what: "a bot token from @BotFather, like 123456:ABC-def",
    allowed: "`<digits>:<token>` from @BotFather",
    defaultText: "unset (no Telegram)",
    description: "The bot token; it turns the Telegram channel on.",
  }),
  TELEGRAM_API_ROOT: url({
    needs: needsToken,
    defaultText: "Telegram's own",
    description: "Another Bot API server (self-hosted, or a fake in tests).",
  }),
  TELEGRAM_UPDATES: choice(["webhook", "polling", "off"], {
    needs: needsToken,
    defaultText: "`webhook` with a webhook URL; else `polling`, or `off` in production",
    description: "How the bot gets updates; `off` means no `/start` and no phone linking.",
  }),
  TELEGRAM_WEBHOOK_URL: url({
    needs: needsToken,
    defaultText: "unset",
    production: "must be `https`.",
    description:
      "The public URL Telegram posts updates to; required with `webhook`. Its path is served on `PORT` and must be one of its own (not `/`, a probe, `/metrics`, `/demo`, `/.well-known/...` or an RPC path), such as `/telegram/<random>`.",
  }),
  TELEGRAM_WEBHOOK_SECRET: text({
    secret: true,
    needs: needsToken,
    pattern: /^[A-Za-z0-9_-]{16,256}$/,
    what: "16 to 256 characters of A-Z, a-z, 0-9, _ and - (e.g. openssl rand -hex 32)",
    allowed: "16..256 of `A-Z a-z 0-9 _ -`",
    defaultText: "unset",
    description:
      "The secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token`; required with `webhook`.",
  }),
  TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS: integer({
    needs: needsToken,
    default: 0,
    orZero: true,
    min: 5,
    max: 86_400,
    unit: "s",
    description: "The self-destruct given to Telegram targets that ask for 0; 0 keeps messages.",
  }),
  TELEGRAM_DELETE_POLL_MS: integer({
    default: 1_000,
    min: 10,
    max: 60_000,
    unit: "ms",
    description:
      "How often each process checks the deletion queue; it also wakes at each due time it knows of.",
  }),
  TELEGRAM_DELETE_LEASE_MS: integer({
    default: 30_000,
    min: 1_000,
    max: 3_600_000,
    unit: "ms",
    description:
      "How long a claimed deletion stays with its process before another may take it over; more than `PROVIDER_TIMEOUT_MS`, or a slow deletion could be claimed twice.",
  }),
  TELEGRAM_LINK_TTL_DAYS: integer({
    default: 365,
    min: 1,
    max: 3650,
    unit: "days",
    description: "How long a phone or account link lasts after it was last made.",
  }),
  TELEGRAM_LINK_TOKEN_TTL_SECONDS: integer({
    default: 600,
    min: 60,
    max: 86_400,
    unit: "s",
    description: "How long a `CreateTelegramLink` deep link works.",
  }),
};

/** The Telegram area of the reference. */
export const telegramArea: Area = {
  title: "Telegram",
  summary:
    "The Telegram channel (grammy): codes by bot message, optional self-destruct, and phone or account linking through `/start`. Every `TELEGRAM_*` variable marked so needs `TELEGRAM_BOT_TOKEN`.",
  variables: telegramVariables,
};

// A webhook URL's path is served on our port, beside the RPCs and probes.
const takenPaths = ["/healthz", "/readyz", "/metrics", "/demo"];

/**
 * Checks that a webhook or callback URL's path is one the service does not
 * already serve; reports a problem and returns undefined when it is.
 */
export function mountable(name: string, value: string | undefined, ctx: Context) {
  if (value === undefined) return value;
  const path = new URL(value).pathname;
  if (
    path === "/" ||
    takenPaths.includes(path) ||
    /^\/(otp|grpc)\.[^/]*\//.test(path) ||
    path.startsWith("/.well-known/") ||
    path.startsWith("/demo/")
  ) {
    ctx.problem(
      name,
      `its path "${path}" is taken; use a path of its own, such as /telegram/<random>`,
    );
    return undefined;
  }
  return value;
}

/** Builds the Telegram channel; undefined without a (valid) bot token. */
export function readTelegram(
  v: Values<typeof telegramVariables> & { PROVIDER_TIMEOUT_MS: number },
  ctx: Context,
): TelegramConfig | undefined {
  let webhookUrl = v.TELEGRAM_WEBHOOK_URL;
  if (webhookUrl !== undefined && ctx.mode === "production" && !webhookUrl.startsWith("https:")) {
    ctx.problem("TELEGRAM_WEBHOOK_URL", "must be an https URL");
    webhookUrl = undefined;
  }
  webhookUrl = mountable("TELEGRAM_WEBHOOK_URL", webhookUrl, ctx);
  const updates =
    v.TELEGRAM_UPDATES ??
    (ctx.isSet("TELEGRAM_WEBHOOK_URL") ? "webhook" : ctx.mode === "production" ? "off" : "polling");
  if (updates === "webhook" && ctx.isSet("TELEGRAM_BOT_TOKEN")) {
    for (const name of ["TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET"]) {
      if (!ctx.isSet(name)) ctx.problem(name, "required when TELEGRAM_UPDATES=webhook");
    }
  }
  if (v.TELEGRAM_DELETE_LEASE_MS <= v.PROVIDER_TIMEOUT_MS) {
    ctx.problem(
      "TELEGRAM_DELETE_LEASE_MS",
      "must be longer than PROVIDER_TIMEOUT_MS, or a slow deletion could be claimed twice",
    );
  }
  if (v.TELEGRAM_BOT_TOKEN === undefined) return undefined;
  return {
    botToken: v.TELEGRAM_BOT_TOKEN,
    apiRoot: v.TELEGRAM_API_ROOT,
    updates,
    webhookUrl,
    webhookSecret: v.TELEGRAM_WEBHOOK_SECRET,
    selfDestructDefaultSeconds: v.TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS,
    deletePollMs: v.TELEGRAM_DELETE_POLL_MS,
    deleteLeaseMs: v.TELEGRAM_DELETE_LEASE_MS,
    linkTtlMs: v.TELEGRAM_LINK_TTL_DAYS * 86_400_000,
    linkTokenTtlSeconds: v.TELEGRAM_LINK_TOKEN_TTL_SECONDS,
  };
}
