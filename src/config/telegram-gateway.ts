import { type Area, type Context, integer, text, url, type Values } from "./schema.js";
import { mountable } from "./telegram.js";

/** The Telegram Gateway channel (verification messages to phone numbers). */
export interface TelegramGatewayConfig {
  token: string;
  /** Where the Gateway API answers: Telegram's own, or a fake in tests. */
  baseUrl: string;
  /** The public URL the Gateway posts delivery reports to; its path is served on our port. */
  callbackUrl: string | undefined;
  /** A verified Telegram channel the codes are sent from; Telegram's own when undefined. */
  senderUsername: string | undefined;
  /** How far a delivery report's timestamp may be from now before it is refused. */
  reportMaxAgeMs: number;
}

const needsToken = ["TELEGRAM_GATEWAY_TOKEN"];

/** The Telegram Gateway channel: turned on by its API token. */
export const telegramGatewayVariables = {
  TELEGRAM_GATEWAY_TOKEN: text({
    secret: true,
    pattern: /^[A-Za-z0-9_:.-]{16,256}$/,
    what: "the API token from the Gateway account settings",
    allowed: "16..256 of `A-Z a-z 0-9 _ : . -`",
    defaultText: "unset (no Telegram Gateway)",
    description:
      "The Gateway API token; it turns the Telegram Gateway channel on, and its SHA-256 keys the signatures of delivery reports.",
  }),
  TELEGRAM_GATEWAY_BASE_URL: url({
    needs: needsToken,
    defaultText: "`https://gatewayapi.telegram.org`",
    description: "Another origin for the Gateway API (a fake in tests).",
  }),
  TELEGRAM_GATEWAY_CALLBACK_URL: url({
    needs: needsToken,
    defaultText: "unset (no delivery reports)",
    production: "must be `https`.",
    description:
      "The public URL the Gateway posts delivery reports to; its path is served on `PORT` and must be one of its own, as for `TELEGRAM_WEBHOOK_URL`.",
  }),
  TELEGRAM_GATEWAY_SENDER_USERNAME: text({
    needs: needsToken,
    pattern: /^[A-Za-z][A-Za-z0-9_]{4,31}$/,
    what: "a Telegram channel username, without @",
    allowed: "5..32 of `A-Z a-z 0-9 _`, without `@`",
    defaultText: "unset (Telegram's Verification Codes channel)",
    description: "A verified channel you own that sends the codes.",
  }),
  TELEGRAM_GATEWAY_REPORT_MAX_AGE_SECONDS: integer({
    default: 300,
    min: 10,
    max: 3600,
    unit: "s",
    description:
      "How far a delivery report's `X-Request-Timestamp` may be from now; older (or replayed) reports are refused.",
  }),
};

/** The Telegram Gateway area of the reference. */
export const telegramGatewayArea: Area = {
  title: "Telegram Gateway",
  summary:
    "Verification messages through Telegram's Gateway API to any phone number with a Telegram account, no bot or linking needed. Every `TELEGRAM_GATEWAY_*` variable marked so needs `TELEGRAM_GATEWAY_TOKEN`. The countries and number types follow `SMS_ALLOWED_COUNTRIES`.",
  variables: telegramGatewayVariables,
};

/** Builds the Telegram Gateway channel; undefined without a token. */
export function readTelegramGateway(
  v: Values<typeof telegramGatewayVariables>,
  ctx: Context,
): TelegramGatewayConfig | undefined {
  let callbackUrl = v.TELEGRAM_GATEWAY_CALLBACK_URL;
  if (callbackUrl !== undefined && ctx.mode === "production" && !callbackUrl.startsWith("https:")) {
    ctx.problem("TELEGRAM_GATEWAY_CALLBACK_URL", "must be an https URL");
    callbackUrl = undefined;
  }
  callbackUrl = mountable("TELEGRAM_GATEWAY_CALLBACK_URL", callbackUrl, ctx);
  if (v.TELEGRAM_GATEWAY_TOKEN === undefined) return undefined;
  return {
    token: v.TELEGRAM_GATEWAY_TOKEN,
    baseUrl: v.TELEGRAM_GATEWAY_BASE_URL ?? "https://gatewayapi.telegram.org",
    callbackUrl,
    senderUsername: v.TELEGRAM_GATEWAY_SENDER_USERNAME,
    reportMaxAgeMs: v.TELEGRAM_GATEWAY_REPORT_MAX_AGE_SECONDS * 1000,
  };
}
