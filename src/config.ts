import { randomBytes } from "node:crypto";
import { availableParallelism } from "node:os";
import type { JWK } from "jose";
import { parseCountryList } from "./delivery/phone.js";
import { type PlusTagDomains, parsePlusTagDomains } from "./delivery/recipient-identity.js";
import type { RetryPolicy } from "./delivery/retry.js";
import {
  createTemplates,
  loadTemplateOverrides,
  type TemplateCatalog,
} from "./delivery/templates.js";
import { parseTrustedProxies } from "./http/client-ip.js";
import { parseLimit } from "./ratelimit/parse-limit.js";
import type { RedisLayout } from "./store/redis/topology.js";
import type { RateLimit } from "./store/store.js";

/** Everything the service reads from its environment, parsed and checked. */
export interface Config {
  /** "production" refuses the outbox and every development default. */
  mode: "development" | "production";
  port: number;
  host: string;
  /** The current HMAC secret first, then previous ones still accepted for verification. */
  hmacSecrets: string[];
  /** True when no secret was configured and a random one was made for this process. */
  hmacSecretGenerated: boolean;
  /** Origins allowed to call from a browser; "*" allows any. */
  corsOrigins: string[];
  resendCooldownSeconds: number;
  maxSendsPerChallenge: number;
  challengeRetentionSeconds: number;
  /** True when the development outbox records messages (never in production). */
  outboxEnabled: boolean;
  outboxRetentionSeconds: number;
  shutdownGraceMs: number;
  /** The largest request message accepted, before and after decompression (`MAX_REQUEST_BYTES`). */
  maxRequestBytes: number;
  /** How long an HTTP/2 connection may stay without a stream before it is closed (`HTTP2_IDLE_TIMEOUT_SECONDS`). */
  http2IdleTimeoutMs: number;
  logLevel: "fatal" | "error" | "warn" | "info" | "debug" | "trace" | "silent";
  /** Limits kept in the store; "off" disables one. */
  rateLimits: {
    generatePerIp: RateLimit | "off";
    verifyPerIp: RateLimit | "off";
    verifyPerChallenge: RateLimit | "off";
    sendsPerRecipient: RateLimit | "off";
    publishablePerIp: RateLimit | "off";
    tenantGenerate: RateLimit | "off";
    tenantSendsPerChannel: RateLimit | "off";
    /** Leading bits of an IPv6 address that make one caller for per-IP limits (32..128). */
    ipv6PrefixLength: number;
  };
  /**
   * Where `+tags` of email addresses are dropped when recipients are counted
   * against the per-recipient limit ("all" domains by default); Gmail's always are.
   */
  plusTagDomains: PlusTagDomains;
  /** Proxies whose X-Forwarded-For is believed when finding the caller's IP. */
  trustedProxies: string[];
  totp: {
    /** AES-256-GCM keys for TOTP secrets at rest, current first. */
    encryptionKeys: Buffer[];
    encryptionKeyGenerated: boolean;
    issuer: string;
    window: number;
    maxFailures: number;
    lockoutSeconds: number;
    pendingSeconds: number;
    retentionSeconds: number;
  };
  tokens: {
    /** Private JWKs, current first; undefined means generate one at start (development only). */
    signingKeys: JWK[] | undefined;
    issuer: string;
    audience: string | undefined;
    ttlSeconds: number;
  };
  /** Processes sharing the port; more than one needs a shared (Redis) store. */
  workers: number;
  /** The credential AdminService takes; undefined disables AdminService. */
  adminToken: string | undefined;
  /** True when every RPC but health and reflection needs an API key (production). */
  requireApiKey: boolean;
  /** Channels, providers, templates and retries. */
  delivery: DeliveryConfig;
  /** Where state lives in Redis; undefined means the in-memory store. */
  redis:
    | {
        layout: RedisLayout;
        keyPrefix: string;
        commandTimeoutMs: number;
        connectTimeoutMs: number;
      }
    | undefined;
}

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

/** Twilio, shared by the SMS and WhatsApp channels. */
export interface TwilioConfig {
  accountSid: string;
  authToken: string;
  /** The SMS sender: an E.164 number or an alphanumeric sender id. */
  smsFrom: string | undefined;
  /** The WhatsApp sender, an E.164 number; the WhatsApp channel exists only with it. */
  whatsappFrom: string | undefined;
  /** A Messaging Service (MG...) used for SMS instead of smsFrom. */
  messagingServiceSid: string | undefined;
  /** An approved WhatsApp authentication template (HX...) for code messages. */
  whatsappContentSid: string | undefined;
  baseUrl: string | undefined;
  /** The public URL Twilio posts status callbacks to; its path is served on our port. */
  statusCallbackUrl: string | undefined;
}

/** Email over Resend. */
export interface EmailConfig {
  apiKey: string;
  from: string;
  replyTo: string | undefined;
  baseUrl: string | undefined;
}

/** Everything about delivery. */
export interface DeliveryConfig {
  telegram: TelegramConfig | undefined;
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

/** A configuration that cannot start the service; the message names every variable at fault. */
export class ConfigError extends Error {
  override readonly name = "ConfigError";
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.problems = problems;
  }
}

type Env = Record<string, string | undefined>;

/**
 * Reads and checks every environment variable in one place, and fails with
 * one error listing every problem.
 *
 * @example
 * const config = loadConfig(process.env);
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = (name: string) => {
    const value = env[name]?.trim();
    return value === undefined || value === "" ? undefined : value;
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = read(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n < min || n > max) {
      problems.push(`${name}: must be a whole number from ${min} to ${max}, got "${raw}"`);
      return fallback;
    }
    return n;
  };

  const nodeEnv = read("NODE_ENV") ?? "development";
  const mode = nodeEnv === "production" ? "production" : "development";
  if (!["production", "development", "test"].includes(nodeEnv)) {
    problems.push(`NODE_ENV: must be "production", "development" or "test", got "${nodeEnv}"`);
  }

  const secret = read("OTP_HMAC_SECRET");
  const previous = (read("OTP_HMAC_PREVIOUS_SECRETS") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  if (secret === undefined && mode === "production") {
    problems.push("OTP_HMAC_SECRET: required when NODE_ENV=production (at least 32 characters)");
  }
  if (secret === undefined && mode === "development" && redisConfigured(read)) {
    problems.push(
      "OTP_HMAC_SECRET: required with a Redis store, so that codes survive restarts and every instance checks them alike",
    );
  }
  if (secret !== undefined && secret.length < 32) {
    // Never echo the secret itself.
    problems.push(`OTP_HMAC_SECRET: must be at least 32 characters, got ${secret.length}`);
  }
  if (previous.some((s) => s.length < 32)) {
    problems.push("OTP_HMAC_PREVIOUS_SECRETS: every secret must be at least 32 characters");
  }
  if (previous.length > 0 && secret === undefined) {
    problems.push("OTP_HMAC_PREVIOUS_SECRETS: needs OTP_HMAC_SECRET as the current secret");
  }

  const outboxRaw = read("DEV_OUTBOX");
  if (outboxRaw !== undefined && !["true", "false"].includes(outboxRaw)) {
    problems.push(`DEV_OUTBOX: must be "true" or "false", got "${outboxRaw}"`);
  }
  if (mode === "production" && outboxRaw === "true") {
    problems.push("DEV_OUTBOX: the development outbox is refused when NODE_ENV=production");
  }

  const layout = readRedisLayout(read, problems);

  const limit = (name: string, fallback: string): RateLimit | "off" => {
    try {
      return parseLimit(read(name) ?? fallback);
    } catch (err) {
      problems.push(`${name}: ${(err as Error).message}`);
      return "off";
    }
  };
  const rateLimits = {
    generatePerIp: limit("RATE_LIMIT_GENERATE_PER_IP", "10/1m"),
    verifyPerIp: limit("RATE_LIMIT_VERIFY_PER_IP", "60/1m"),
    verifyPerChallenge: limit("RATE_LIMIT_VERIFY_PER_CHALLENGE", "20/1m"),
    sendsPerRecipient: limit("RATE_LIMIT_SENDS_PER_RECIPIENT", "5/1h"),
    publishablePerIp: limit("RATE_LIMIT_PUBLISHABLE_PER_IP", "5/1m"),
    tenantGenerate: limit("TENANT_QUOTA_GENERATE", "600/1m"),
    tenantSendsPerChannel: limit("TENANT_QUOTA_SENDS_PER_CHANNEL", "10000/24h"),
    // One subscriber usually holds a whole /64; per /128 it would have 2^64 budgets.
    ipv6PrefixLength: int("RATE_LIMIT_IPV6_PREFIX", 64, 32, 128),
  };
  let plusTagDomains: PlusTagDomains = "all";
  try {
    plusTagDomains = parsePlusTagDomains(read("RATE_LIMIT_PLUS_TAG_DOMAINS") ?? "*");
  } catch (err) {
    problems.push(`RATE_LIMIT_PLUS_TAG_DOMAINS: ${(err as Error).message}`);
  }
  let trustedProxies: string[] = [];
  try {
    trustedProxies = parseTrustedProxies(read("TRUSTED_PROXIES") ?? "");
  } catch (err) {
    problems.push(`TRUSTED_PROXIES: ${(err as Error).message}`);
  }

  const decodeKey = (name: string, value: string): Buffer | undefined => {
    const key = /^[0-9a-fA-F]{64}$/.test(value)
      ? Buffer.from(value, "hex")
      : Buffer.from(value, "base64");
    if (key.length !== 32) {
      problems.push(
        `${name}: must be 32 bytes, as 64 hex digits or base64 (e.g. openssl rand -base64 32)`,
      );
      return undefined;
    }
    return key;
  };
  const totpKeyRaw = read("TOTP_ENCRYPTION_KEY");
  const totpPrevious = (read("TOTP_PREVIOUS_ENCRYPTION_KEYS") ?? "")
    .split(",")
    .map((k) => k.trim())
    .filter((k) => k !== "");
  if (totpKeyRaw === undefined && mode === "production") {
    problems.push(
      "TOTP_ENCRYPTION_KEY: required when NODE_ENV=production (32 bytes, base64 or hex)",
    );
  }
  if (totpKeyRaw === undefined && mode === "development" && redisConfigured(read)) {
    problems.push(
      "TOTP_ENCRYPTION_KEY: required with a Redis store, so that factors survive restarts",
    );
  }
  const totpKeys = [
    ...(totpKeyRaw === undefined ? [] : [decodeKey("TOTP_ENCRYPTION_KEY", totpKeyRaw)]),
    ...totpPrevious.map((k) => decodeKey("TOTP_PREVIOUS_ENCRYPTION_KEYS", k)),
  ].filter((k): k is Buffer => k !== undefined);

  let signingKeys: JWK[] | undefined;
  const signingRaw = read("TOKEN_SIGNING_KEYS");
  if (signingRaw !== undefined) {
    try {
      const parsed = JSON.parse(signingRaw) as unknown;
      const list = Array.isArray(parsed) ? parsed : [parsed];
      if (
        list.length === 0 ||
        !list.every(
          (k) =>
            typeof k === "object" &&
            k !== null &&
            typeof (k as JWK).d === "string" &&
            (((k as JWK).kty === "OKP" && (k as JWK).crv === "Ed25519") ||
              ((k as JWK).kty === "EC" && (k as JWK).crv === "P-256")),
        )
      ) {
        throw new Error("shape");
      }
      signingKeys = list as JWK[];
    } catch {
      problems.push(
        "TOKEN_SIGNING_KEYS: must be a JSON array of private Ed25519 (OKP) or P-256 (EC) JWKs, current first",
      );
    }
  } else if (mode === "production") {
    problems.push(
      "TOKEN_SIGNING_KEYS: required when NODE_ENV=production (a JSON array of private JWKs)",
    );
  }

  const adminToken = read("ADMIN_TOKEN");
  if (adminToken !== undefined && adminToken.length < 32) {
    problems.push(`ADMIN_TOKEN: must be at least 32 characters, got ${adminToken.length}`);
  }

  const workersRaw = read("WORKERS") ?? "1";
  let workers = 1;
  if (workersRaw === "auto") {
    workers = availableParallelism();
  } else if (/^\d+$/.test(workersRaw) && Number(workersRaw) >= 1 && Number(workersRaw) <= 64) {
    workers = Number(workersRaw);
  } else {
    problems.push(`WORKERS: must be "auto" or a whole number from 1 to 64, got "${workersRaw}"`);
  }
  if (workers > 1 && signingRaw === undefined) {
    problems.push(
      "TOKEN_SIGNING_KEYS: required with WORKERS > 1, so every process signs with the same keys",
    );
  }
  if (workers > 1 && !redisConfigured(read)) {
    problems.push(
      `WORKERS: ${workers} processes need a shared store; the in-memory store serves one process (set REDIS_URL, or WORKERS=1)`,
    );
  }

  const logLevel = read("LOG_LEVEL") ?? "info";
  const levels = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
  if (!levels.includes(logLevel as Config["logLevel"])) {
    problems.push(`LOG_LEVEL: must be one of ${levels.join(", ")}, got "${logLevel}"`);
  }

  const corsOrigins = (read("CORS_ORIGINS") ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  for (const origin of corsOrigins) {
    if (origin !== "*" && !/^https?:\/\/[^/\s]+$/.test(origin)) {
      problems.push(
        `CORS_ORIGINS: "${origin}" is not an origin like https://app.example.com (no path)`,
      );
    }
  }

  const delivery = readDeliveryConfig(read, int, mode, problems);

  const config: Config = {
    mode,
    port: int("PORT", 8080, 0, 65535),
    host: read("HOST") ?? (mode === "production" ? "0.0.0.0" : "127.0.0.1"),
    hmacSecrets:
      secret === undefined ? [randomBytes(32).toString("base64url")] : [secret, ...previous],
    hmacSecretGenerated: secret === undefined,
    corsOrigins,
    resendCooldownSeconds: int("RESEND_COOLDOWN_SECONDS", 30, 0, 86_400),
    maxSendsPerChallenge: int("RESEND_MAX_SENDS", 5, 1, 100),
    challengeRetentionSeconds: int("CHALLENGE_RETENTION_SECONDS", 3600, 0, 30 * 86_400),
    outboxEnabled: mode === "development" && outboxRaw !== "false",
    outboxRetentionSeconds: int("DEV_OUTBOX_RETENTION_SECONDS", 3600, 1, 30 * 86_400),
    shutdownGraceMs: int("SHUTDOWN_GRACE_SECONDS", 10, 0, 300) * 1000,
    maxRequestBytes: int("MAX_REQUEST_BYTES", 65_536, 1_024, 16 * 1024 * 1024),
    http2IdleTimeoutMs: int("HTTP2_IDLE_TIMEOUT_SECONDS", 300, 1, 86_400) * 1000,
    logLevel: logLevel as Config["logLevel"],
    rateLimits,
    plusTagDomains,
    trustedProxies,
    totp: {
      encryptionKeys: totpKeys.length > 0 ? totpKeys : [randomBytes(32)],
      encryptionKeyGenerated: totpKeyRaw === undefined,
      issuer: read("TOTP_ISSUER") ?? "OTP Service",
      window: int("TOTP_WINDOW", 1, 0, 10),
      maxFailures: int("TOTP_MAX_FAILURES", 5, 1, 100),
      lockoutSeconds: int("TOTP_LOCKOUT_SECONDS", 300, 1, 86_400),
      pendingSeconds: int("TOTP_PENDING_SECONDS", 600, 30, 86_400),
      retentionSeconds: int("TOTP_RETENTION_DAYS", 400, 1, 3650) * 86_400,
    },
    tokens: {
      signingKeys,
      issuer: read("TOKEN_ISSUER") ?? "otp-service",
      audience: read("TOKEN_AUDIENCE"),
      ttlSeconds: int("TOKEN_TTL_SECONDS", 300, 10, 86_400),
    },
    workers,
    adminToken,
    requireApiKey: mode === "production",
    delivery,
    redis:
      layout === undefined
        ? undefined
        : {
            layout,
            keyPrefix: read("REDIS_KEY_PREFIX") ?? "otp:",
            commandTimeoutMs: int("REDIS_COMMAND_TIMEOUT_MS", 1000, 50, 60_000),
            connectTimeoutMs: int("REDIS_CONNECT_TIMEOUT_MS", 5000, 100, 120_000),
          },
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/**
 * Reads the delivery variables: each provider is configured by its
 * credentials, and a partial set of a provider's variables is an error
 * naming what is missing.
 */
function readDeliveryConfig(
  read: (name: string) => string | undefined,
  int: (name: string, fallback: number, min: number, max: number) => number,
  mode: Config["mode"],
  problems: string[],
): DeliveryConfig {
  const url = (name: string, options: { https?: boolean } = {}): string | undefined => {
    const value = read(name);
    if (value === undefined) return undefined;
    try {
      const parsed = new URL(value);
      const allowed = options.https === true ? ["https:"] : ["http:", "https:"];
      if (allowed.includes(parsed.protocol)) return value.replace(/\/+$/, "");
    } catch {}
    problems.push(`${name}: must be an ${options.https === true ? "https" : "http(s)"} URL`);
    return undefined;
  };
  const matching = (name: string, pattern: RegExp, what: string): string | undefined => {
    const value = read(name);
    if (value === undefined || pattern.test(value)) return value;
    // Never echo a credential.
    problems.push(`${name}: must be ${what}`);
    return undefined;
  };
  const e164 = /^\+[1-9]\d{6,14}$/;
  // A webhook URL's path is served on our port, beside the RPCs and probes.
  const mountable = (name: string, value: string | undefined) => {
    if (value === undefined) return value;
    const path = new URL(value).pathname;
    const taken = ["/healthz", "/readyz", "/metrics", "/demo"];
    if (
      path === "/" ||
      taken.includes(path) ||
      /^\/(otp|grpc)\.[^/]*\//.test(path) ||
      path.startsWith("/.well-known/") ||
      path.startsWith("/demo/")
    ) {
      problems.push(
        `${name}: its path "${path}" is taken; use a path of its own, such as /telegram/<random>`,
      );
      return undefined;
    }
    return value;
  };
  const requires = (name: string, needs: string) => {
    if (read(name) !== undefined && read(needs) === undefined) {
      problems.push(`${name}: needs ${needs}`);
    }
  };

  // Telegram.
  let telegram: TelegramConfig | undefined;
  const botToken = matching(
    "TELEGRAM_BOT_TOKEN",
    /^\d{1,20}:[A-Za-z0-9_-]{1,200}$/,
    "a bot token from @BotFather, like 123456:ABC-def",
  );
  for (const name of [
    "TELEGRAM_API_ROOT",
    "TELEGRAM_UPDATES",
    "TELEGRAM_WEBHOOK_URL",
    "TELEGRAM_WEBHOOK_SECRET",
    "TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS",
  ]) {
    requires(name, "TELEGRAM_BOT_TOKEN");
  }
  const webhookUrl = mountable(
    "TELEGRAM_WEBHOOK_URL",
    url("TELEGRAM_WEBHOOK_URL", { https: mode === "production" }),
  );
  const webhookSecret = matching(
    "TELEGRAM_WEBHOOK_SECRET",
    /^[A-Za-z0-9_-]{16,256}$/,
    "16 to 256 characters of A-Z, a-z, 0-9, _ and - (e.g. openssl rand -hex 32)",
  );
  const updatesRaw =
    read("TELEGRAM_UPDATES") ??
    (read("TELEGRAM_WEBHOOK_URL") !== undefined
      ? "webhook"
      : mode === "production"
        ? "off"
        : "polling");
  if (!["webhook", "polling", "off"].includes(updatesRaw)) {
    problems.push(`TELEGRAM_UPDATES: must be "webhook", "polling" or "off", got "${updatesRaw}"`);
  }
  if (updatesRaw === "webhook" && read("TELEGRAM_BOT_TOKEN") !== undefined) {
    if (read("TELEGRAM_WEBHOOK_URL") === undefined) {
      problems.push("TELEGRAM_WEBHOOK_URL: required when TELEGRAM_UPDATES=webhook");
    }
    if (read("TELEGRAM_WEBHOOK_SECRET") === undefined) {
      problems.push("TELEGRAM_WEBHOOK_SECRET: required when TELEGRAM_UPDATES=webhook");
    }
  }
  const selfDestructDefaultSeconds = int("TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS", 0, 0, 86_400);
  if (selfDestructDefaultSeconds > 0 && selfDestructDefaultSeconds < 5) {
    problems.push("TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS: must be 0 (keep) or from 5 to 86400");
  }
  const providerTimeoutMs = int("PROVIDER_TIMEOUT_MS", 5_000, 100, 120_000);
  const deleteLeaseMs = int("TELEGRAM_DELETE_LEASE_MS", 30_000, 1_000, 3_600_000);
  if (deleteLeaseMs <= providerTimeoutMs) {
    problems.push(
      "TELEGRAM_DELETE_LEASE_MS: must be longer than PROVIDER_TIMEOUT_MS, or a slow deletion could be claimed twice",
    );
  }
  const telegramRest = {
    apiRoot: url("TELEGRAM_API_ROOT"),
    updates: updatesRaw as TelegramUpdates,
    webhookUrl,
    webhookSecret,
    selfDestructDefaultSeconds,
    deletePollMs: int("TELEGRAM_DELETE_POLL_MS", 1_000, 10, 60_000),
    deleteLeaseMs,
    linkTtlMs: int("TELEGRAM_LINK_TTL_DAYS", 365, 1, 3650) * 86_400_000,
    linkTokenTtlSeconds: int("TELEGRAM_LINK_TOKEN_TTL_SECONDS", 600, 60, 86_400),
  };
  if (botToken !== undefined) telegram = { botToken, ...telegramRest };

  // Twilio.
  const sid = /^[0-9a-fA-F]{32}$/;
  const accountSid = matching(
    "TWILIO_ACCOUNT_SID",
    new RegExp(`^AC${sid.source.slice(1)}`),
    "an account SID (AC followed by 32 hex digits)",
  );
  const authToken = read("TWILIO_AUTH_TOKEN");
  for (const name of [
    "TWILIO_AUTH_TOKEN",
    "TWILIO_SMS_FROM",
    "TWILIO_WHATSAPP_FROM",
    "TWILIO_MESSAGING_SERVICE_SID",
    "TWILIO_WHATSAPP_CONTENT_SID",
    "TWILIO_BASE_URL",
    "TWILIO_STATUS_CALLBACK_URL",
  ]) {
    requires(name, "TWILIO_ACCOUNT_SID");
  }
  if (read("TWILIO_ACCOUNT_SID") !== undefined && authToken === undefined) {
    problems.push("TWILIO_AUTH_TOKEN: required with TWILIO_ACCOUNT_SID");
  }
  const smsFrom = matching(
    "TWILIO_SMS_FROM",
    /^(\+[1-9]\d{6,14}|(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11})$/,
    "an E.164 number like +14155550100 or an alphanumeric sender id of up to 11 characters",
  );
  const whatsappFrom = matching(
    "TWILIO_WHATSAPP_FROM",
    e164,
    "an E.164 number like +14155550100, without the whatsapp: prefix",
  );
  const messagingServiceSid = matching(
    "TWILIO_MESSAGING_SERVICE_SID",
    new RegExp(`^MG${sid.source.slice(1)}`),
    "a Messaging Service SID (MG followed by 32 hex digits)",
  );
  const whatsappContentSid = matching(
    "TWILIO_WHATSAPP_CONTENT_SID",
    new RegExp(`^HX${sid.source.slice(1)}`),
    "a Content SID (HX followed by 32 hex digits)",
  );
  requires("TWILIO_WHATSAPP_CONTENT_SID", "TWILIO_WHATSAPP_FROM");
  if (
    read("TWILIO_ACCOUNT_SID") !== undefined &&
    [
      read("TWILIO_SMS_FROM"),
      read("TWILIO_MESSAGING_SERVICE_SID"),
      read("TWILIO_WHATSAPP_FROM"),
    ].filter((v) => v !== undefined).length === 0
  ) {
    problems.push(
      "TWILIO_ACCOUNT_SID: set TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID (SMS), and/or TWILIO_WHATSAPP_FROM (WhatsApp)",
    );
  }
  const twilio =
    accountSid === undefined || authToken === undefined
      ? undefined
      : {
          accountSid,
          authToken,
          smsFrom,
          whatsappFrom,
          messagingServiceSid,
          whatsappContentSid,
          baseUrl: url("TWILIO_BASE_URL"),
          statusCallbackUrl: mountable(
            "TWILIO_STATUS_CALLBACK_URL",
            url("TWILIO_STATUS_CALLBACK_URL"),
          ),
        };
  const smsConfigured =
    read("TWILIO_SMS_FROM") !== undefined || read("TWILIO_MESSAGING_SERVICE_SID") !== undefined;
  const countries = (name: string, fallback: string | undefined, required: boolean) => {
    const raw = read(name) ?? fallback;
    if (raw === undefined) {
      if (required) {
        problems.push(
          `${name}: required when NODE_ENV=production, to guard against SMS pumping (e.g. "US,CA", or "*" for every country)`,
        );
      }
      return "all" as const;
    }
    try {
      return parseCountryList(raw);
    } catch (err) {
      // A list borrowed from SMS_ALLOWED_COUNTRIES is reported there.
      if (read(name) !== undefined) problems.push(`${name}: ${(err as Error).message}`);
      return "all" as const;
    }
  };
  const production = mode === "production" && twilio !== undefined;
  const smsAllowedCountries = countries(
    "SMS_ALLOWED_COUNTRIES",
    undefined,
    production && smsConfigured,
  );
  const whatsappAllowedCountries = countries(
    "WHATSAPP_ALLOWED_COUNTRIES",
    read("SMS_ALLOWED_COUNTRIES"),
    production && read("TWILIO_WHATSAPP_FROM") !== undefined,
  );

  // Email.
  const apiKey = read("RESEND_API_KEY");
  const from = matching(
    "EMAIL_FROM",
    /^([^<>\r\n]*<[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>|[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+)$/,
    'an address like login@mail.example.com or "Example <login@mail.example.com>"',
  );
  const replyTo = matching(
    "EMAIL_REPLY_TO",
    /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/,
    "an email address",
  );
  if (apiKey !== undefined && read("EMAIL_FROM") === undefined) {
    problems.push(
      "EMAIL_FROM: required with RESEND_API_KEY (an address on a domain verified with Resend)",
    );
  }
  for (const name of ["EMAIL_FROM", "EMAIL_REPLY_TO", "RESEND_BASE_URL"]) {
    requires(name, "RESEND_API_KEY");
  }
  const email =
    apiKey === undefined || from === undefined
      ? undefined
      : { apiKey, from, replyTo, baseUrl: url("RESEND_BASE_URL") };

  // Templates.
  const templatesFile = read("TEMPLATES_FILE");
  let templateOverrides: TemplateCatalog | undefined;
  if (templatesFile !== undefined) {
    try {
      templateOverrides = loadTemplateOverrides(templatesFile);
    } catch (err) {
      problems.push(`TEMPLATES_FILE: ${(err as Error).message}`);
    }
  }
  const defaultLocale = read("DEFAULT_LOCALE") ?? "en";
  try {
    createTemplates({ overrides: templateOverrides, defaultLocale });
  } catch (err) {
    const name = /default locale/.test((err as Error).message)
      ? "DEFAULT_LOCALE"
      : "TEMPLATES_FILE";
    problems.push(`${name}: ${(err as Error).message}`);
  }

  const retry: RetryPolicy = {
    maxAttempts: int("DELIVERY_RETRY_MAX_ATTEMPTS", 4, 1, 20),
    baseDelayMs: int("DELIVERY_RETRY_BASE_MS", 250, 1, 60_000),
    maxDelayMs: int("DELIVERY_RETRY_MAX_DELAY_MS", 2_000, 1, 300_000),
    maxTotalMs: int("DELIVERY_RETRY_BUDGET_MS", 10_000, 100, 600_000),
  };
  if (retry.maxDelayMs < retry.baseDelayMs) {
    problems.push("DELIVERY_RETRY_MAX_DELAY_MS: must not be less than DELIVERY_RETRY_BASE_MS");
  }
  const fallbackBudgetMs = int("DELIVERY_FALLBACK_BUDGET_MS", 3_000, 100, 600_000);

  return {
    telegram,
    twilio,
    email,
    smsAllowedCountries,
    whatsappAllowedCountries,
    templateOverrides,
    defaultLocale,
    retry,
    fallbackBudgetMs: Math.min(fallbackBudgetMs, retry.maxTotalMs),
    providerTimeoutMs,
    watchMaxSeconds: int("DELIVERY_WATCH_MAX_SECONDS", 300, 1, 3_600),
    retentionSeconds: int("DELIVERY_RETENTION_SECONDS", 86_400, 60, 30 * 86_400),
  };
}

/**
 * Reads the Redis variables: REDIS_URL alone (one Redis), REDIS_URL with
 * REDIS_DB_RANGE (shards over DB indices), REDIS_SHARD_URLS (one Redis per
 * shard) or REDIS_CLUSTER_NODES (a Redis Cluster). They exclude each other.
 */
function readRedisLayout(
  read: (name: string) => string | undefined,
  problems: string[],
): RedisLayout | undefined {
  const url = read("REDIS_URL");
  const range = read("REDIS_DB_RANGE");
  const shardUrls = read("REDIS_SHARD_URLS");
  const clusterNodes = read("REDIS_CLUSTER_NODES");
  const given = [
    url && "REDIS_URL",
    shardUrls && "REDIS_SHARD_URLS",
    clusterNodes && "REDIS_CLUSTER_NODES",
  ].filter(Boolean);
  if (given.length > 1) {
    problems.push(
      `${given.join(", ")}: set only one of REDIS_URL, REDIS_SHARD_URLS, REDIS_CLUSTER_NODES`,
    );
    return undefined;
  }
  const validUrl = (name: string, value: string) => {
    try {
      const u = new URL(value);
      if (u.protocol === "redis:" || u.protocol === "rediss:") return true;
    } catch {}
    // The URL may hold a password: name the variable, not the value.
    problems.push(`${name}: must be a redis:// or rediss:// URL`);
    return false;
  };
  if (range !== undefined && url === undefined) {
    problems.push("REDIS_DB_RANGE: needs REDIS_URL, the Redis whose DB indices hold the shards");
    return undefined;
  }
  if (url !== undefined) {
    if (!validUrl("REDIS_URL", url)) return undefined;
    if (range === undefined) return { kind: "single", url };
    const match = /^(\d+)-(\d+)$/.exec(range);
    const first = Number(match?.[1]);
    const last = Number(match?.[2]);
    if (match === null || first > last || last > 15) {
      problems.push(
        `REDIS_DB_RANGE: must be <first>-<last> DB indices within 0-15, got "${range}"`,
      );
      return undefined;
    }
    if (new URL(url).pathname.length > 1) {
      problems.push("REDIS_URL: must not name a DB index when REDIS_DB_RANGE is set");
      return undefined;
    }
    return { kind: "db-range", url, first, last };
  }
  if (shardUrls !== undefined) {
    const urls = shardUrls
      .split(",")
      .map((u) => u.trim())
      .filter((u) => u !== "");
    if (!urls.every((u) => validUrl("REDIS_SHARD_URLS", u))) return undefined;
    return { kind: "urls", urls };
  }
  if (clusterNodes !== undefined) {
    const nodes = clusterNodes
      .split(",")
      .map((n) => n.trim())
      .filter((n) => n !== "");
    const parsed = nodes.map((n) => /^([^:\s]+):(\d{1,5})$/.exec(n));
    if (parsed.length === 0 || parsed.some((m) => m === null)) {
      problems.push(
        `REDIS_CLUSTER_NODES: must be comma-separated host:port seeds, got "${clusterNodes}"`,
      );
      return undefined;
    }
    return {
      kind: "cluster",
      nodes: parsed.map((m) => ({ host: m?.[1] as string, port: Number(m?.[2]) })),
    };
  }
  return undefined;
}

function redisConfigured(read: (name: string) => string | undefined): boolean {
  return ["REDIS_URL", "REDIS_SHARD_URLS", "REDIS_CLUSTER_NODES"].some(
    (n) => read(n) !== undefined,
  );
}
