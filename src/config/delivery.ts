import { type EmailConfig, type emailVariables, readEmail } from "./email.js";
import { type Area, type Context, integer, parsed, text, type Values } from "./schema.js";
import { readTelegram, type TelegramConfig, type telegramVariables } from "./telegram.js";
import {
  readTelegramGateway,
  type TelegramGatewayConfig,
  type telegramGatewayVariables,
} from "./telegram-gateway.js";
import {
  builtInTemplateLocales,
  loadTemplateOverrides,
  normalizeLocale,
  type TemplateCatalog,
} from "./templates.js";
import { readTwilio, type TwilioConfig, type twilioVariables } from "./twilio.js";

/** How a send retries. All times in milliseconds. */
export interface RetryPolicy {
  /** The most attempts in all, the first one included. */
  maxAttempts: number;
  /** The backoff window before the first retry; it doubles with each retry. */
  baseDelayMs: number;
  /** The largest backoff window. */
  maxDelayMs: number;
  /**
   * The longest time a send may take, all attempts and waits included. A wait
   * that would end past it is not started, and the attempt running when it
   * passes is aborted.
   */
  maxTotalMs: number;
}

/** Everything about delivery. */
export interface DeliveryConfig {
  telegram: TelegramConfig | undefined;
  telegramGateway: TelegramGatewayConfig | undefined;
  twilio: TwilioConfig | undefined;
  email: EmailConfig | undefined;
  /** Destination countries for SMS (ISO 3166-1 alpha-2), or "all". */
  smsAllowedCountries: ReadonlySet<string> | "all";
  whatsappAllowedCountries: ReadonlySet<string> | "all";
  /** Template overrides read from TEMPLATES_FILE. */
  templateOverrides: TemplateCatalog | undefined;
  defaultLocale: string;
  /** Retries of one send; its maxTotalMs bounds a send with nothing after it. */
  retry: RetryPolicy;
  /** The retry budget of a target that has a fallback after it (Generate, Resend). */
  fallbackBudgetMs: number;
  /** The longest one provider HTTP call may take. */
  providerTimeoutMs: number;
  /** The longest a WatchDelivery stream stays open. */
  watchMaxSeconds: number;
  /** How long delivery records stay readable (longer for self-destructing messages). */
  retentionSeconds: number;
}

/**
 * Parses an allow-list such as "US,CA,GB" (case-insensitive) or "*" for all
 * countries. Throws on a code that is not two letters.
 *
 * @example
 * parseCountryList("us, gb"); // Set {"US", "GB"}
 */
export function parseCountryList(value: string): ReadonlySet<string> | "all" {
  const trimmed = value.trim();
  if (trimmed === "*") return "all";
  const codes = trimmed
    .split(",")
    .map((c) => c.trim().toUpperCase())
    .filter((c) => c !== "");
  for (const code of codes) {
    if (!/^[A-Z]{2}$/.test(code))
      throw new Error(`"${code}" is not an ISO 3166-1 alpha-2 country code`);
  }
  return new Set(codes);
}

const countries = "ISO 3166-1 alpha-2 codes (`US,CA`), or `*` for every country";

/** What every channel shares: destinations, templates, retries and timeouts. */
export const deliveryVariables = {
  SMS_ALLOWED_COUNTRIES: parsed(parseCountryList, {
    type: "list",
    allowed: countries,
    defaultText: "unset: every country (development only)",
    production: "required with Twilio SMS.",
    description:
      "The countries SMS may go to; keeping it to the countries you serve is the main guard against SMS pumping.",
  }),
  WHATSAPP_ALLOWED_COUNTRIES: parsed(parseCountryList, {
    type: "list",
    allowed: countries,
    defaultText: "`SMS_ALLOWED_COUNTRIES`",
    production: "it or `SMS_ALLOWED_COUNTRIES` is required with WhatsApp.",
    description: "The countries WhatsApp may go to.",
  }),
  TEMPLATES_FILE: parsed(loadTemplateOverrides, {
    type: "path",
    allowed: 'a JSON file `{ "<locale>": { "<channel>": { "text", "subject", "html" } } }`',
    defaultText: "unset (built-in templates)",
    description:
      "Template overrides, field by field over the built-in ones. Placeholders: `{{code}}` (required in text and HTML) and `{{lifetime}}`.",
  }),
  DEFAULT_LOCALE: text({
    default: "en",
    allowed: `${builtInTemplateLocales.map((l) => `\`${l}\``).join(", ")}, or a locale with an SMS template in \`TEMPLATES_FILE\``,
    description: "The language of messages that name none, or none known.",
  }),
  DELIVERY_RETRY_MAX_ATTEMPTS: integer({
    default: 4,
    min: 1,
    max: 20,
    description: "Attempts per send, the first included, on retryable provider errors.",
  }),
  DELIVERY_RETRY_BASE_MS: integer({
    default: 250,
    min: 1,
    max: 60_000,
    unit: "ms",
    description:
      "The backoff window before the first retry; it doubles with each retry (with jitter).",
  }),
  DELIVERY_RETRY_MAX_DELAY_MS: integer({
    default: 2_000,
    min: 1,
    max: 300_000,
    unit: "ms",
    description: "The largest backoff window; not below `DELIVERY_RETRY_BASE_MS`.",
  }),
  DELIVERY_RETRY_BUDGET_MS: integer({
    default: 10_000,
    min: 100,
    max: 600_000,
    unit: "ms",
    description:
      "The longest a send may take, attempts and waits included (a target with nothing after it, and `Send`).",
  }),
  DELIVERY_FALLBACK_BUDGET_MS: integer({
    default: 3_000,
    min: 100,
    max: 600_000,
    unit: "ms",
    description:
      "The same for a target with a fallback after it; at most `DELIVERY_RETRY_BUDGET_MS`.",
  }),
  PROVIDER_TIMEOUT_MS: integer({
    default: 5_000,
    min: 100,
    max: 120_000,
    unit: "ms",
    description: "The longest one provider HTTP call may take.",
  }),
  DELIVERY_WATCH_MAX_SECONDS: integer({
    default: 300,
    min: 1,
    max: 3_600,
    unit: "s",
    description: "The longest a `WatchDelivery` stream stays open.",
  }),
  DELIVERY_RETENTION_SECONDS: integer({
    default: 86_400,
    min: 60,
    max: 30 * 86_400,
    unit: "s",
    description: "How long delivery records stay readable, plus any self-destruct delay.",
  }),
};

/** The delivery area of the reference. */
export const deliveryArea: Area = {
  title: "Delivery",
  summary:
    "What every channel shares. Each provider is turned on by its key variable (`TELEGRAM_BOT_TOKEN`, `TWILIO_ACCOUNT_SID`, `RESEND_API_KEY`); setting one of its other variables without it, or leaving out one it needs, is a problem like any other.",
  variables: deliveryVariables,
};

type DeliveryValues = Values<
  typeof deliveryVariables &
    typeof telegramVariables &
    typeof telegramGatewayVariables &
    typeof twilioVariables &
    typeof emailVariables
>;

/** Builds delivery: the providers, then what they share. */
export function readDelivery(v: DeliveryValues, ctx: Context): DeliveryConfig {
  const telegram = readTelegram(v, ctx);
  const twilio = readTwilio(v, ctx);
  const production = ctx.mode === "production" && twilio !== undefined;
  const smsConfigured = ctx.isSet("TWILIO_SMS_FROM") || ctx.isSet("TWILIO_MESSAGING_SERVICE_SID");
  const guard =
    'required when NODE_ENV=production, to guard against SMS pumping (e.g. "US,CA", or "*" for every country)';
  if (production && smsConfigured && !ctx.isSet("SMS_ALLOWED_COUNTRIES")) {
    ctx.problem("SMS_ALLOWED_COUNTRIES", guard);
  }
  const whatsappListed =
    ctx.isSet("WHATSAPP_ALLOWED_COUNTRIES") || ctx.isSet("SMS_ALLOWED_COUNTRIES");
  if (production && ctx.isSet("TWILIO_WHATSAPP_FROM") && !whatsappListed) {
    ctx.problem("WHATSAPP_ALLOWED_COUNTRIES", guard);
  }
  const defaultLocale = normalizeLocale(v.DEFAULT_LOCALE);
  const hasSms =
    (builtInTemplateLocales as readonly string[]).includes(defaultLocale) ||
    v.TEMPLATES_FILE?.[defaultLocale]?.sms?.text !== undefined;
  if (!hasSms) {
    ctx.problem("DEFAULT_LOCALE", `the default locale "${defaultLocale}" has no SMS template`);
  }
  const retry: RetryPolicy = {
    maxAttempts: v.DELIVERY_RETRY_MAX_ATTEMPTS,
    baseDelayMs: v.DELIVERY_RETRY_BASE_MS,
    maxDelayMs: v.DELIVERY_RETRY_MAX_DELAY_MS,
    maxTotalMs: v.DELIVERY_RETRY_BUDGET_MS,
  };
  if (retry.maxDelayMs < retry.baseDelayMs) {
    ctx.problem("DELIVERY_RETRY_MAX_DELAY_MS", "must not be less than DELIVERY_RETRY_BASE_MS");
  }
  return {
    telegram,
    telegramGateway: readTelegramGateway(v, ctx),
    twilio,
    email: readEmail(v),
    smsAllowedCountries: v.SMS_ALLOWED_COUNTRIES ?? "all",
    whatsappAllowedCountries: v.WHATSAPP_ALLOWED_COUNTRIES ?? v.SMS_ALLOWED_COUNTRIES ?? "all",
    templateOverrides: v.TEMPLATES_FILE,
    defaultLocale: v.DEFAULT_LOCALE,
    retry,
    fallbackBudgetMs: Math.min(v.DELIVERY_FALLBACK_BUDGET_MS, retry.maxTotalMs),
    providerTimeoutMs: v.PROVIDER_TIMEOUT_MS,
    watchMaxSeconds: v.DELIVERY_WATCH_MAX_SECONDS,
    retentionSeconds: v.DELIVERY_RETENTION_SECONDS,
  };
}
