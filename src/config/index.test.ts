import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

const secret = "s".repeat(40);
const keys = {
  TOTP_ENCRYPTION_KEY: Buffer.alloc(32, 7).toString("base64"),
  TOKEN_SIGNING_KEYS: JSON.stringify([
    {
      kty: "OKP",
      crv: "Ed25519",
      x: "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
      d: "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    },
  ]),
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("loadConfig", () => {
  it("starts a development service with no variables at all", () => {
    const config = loadConfig({});
    expect(config.mode).toBe("development");
    expect(config.port).toBe(8080);
    expect(config.outboxEnabled).toBe(true);
    expect(config.hmacSecretGenerated).toBe(true);
    expect(config.resendCooldownSeconds).toBe(30);
    expect(config.maxSendsPerChallenge).toBe(5);
  });

  it("bounds request messages at 64 KiB and idle HTTP/2 sessions at 5 minutes by default", () => {
    const config = loadConfig({});
    expect(config.maxRequestBytes).toBe(65_536);
    expect(config.http2IdleTimeoutMs).toBe(300_000);
    const tuned = loadConfig({ MAX_REQUEST_BYTES: "1048576", HTTP2_IDLE_TIMEOUT_SECONDS: "30" });
    expect([tuned.maxRequestBytes, tuned.http2IdleTimeoutMs]).toEqual([1_048_576, 30_000]);
    expect(problemsOf({ MAX_REQUEST_BYTES: "0" }).join()).toMatch(/^MAX_REQUEST_BYTES:/);
    expect(problemsOf({ MAX_REQUEST_BYTES: "99999999999" }).join()).toMatch(/^MAX_REQUEST_BYTES:/);
  });

  it("uses one process per CPU in production with Redis unless WORKERS says otherwise", () => {
    const production = { NODE_ENV: "production", OTP_HMAC_SECRET: secret, ...keys };
    const shared = { ...production, REDIS_URL: "redis://127.0.0.1:6379" };
    const auto = loadConfig(shared);
    expect([auto.workers, auto.workersAuto]).toEqual([availableParallelism(), true]);
    expect(loadConfig({ ...shared, WORKERS: "1" })).toMatchObject({
      workers: 1,
      workersAuto: false,
    });
    // Without Redis, or in development, one process.
    expect(loadConfig(production)).toMatchObject({ workers: 1, workersAuto: false });
    expect(
      loadConfig({ REDIS_URL: "redis://127.0.0.1:6379", OTP_HMAC_SECRET: secret, ...keys }),
    ).toMatchObject({ workers: 1, workersAuto: false });
  });

  it("refuses production without OTP_HMAC_SECRET", () => {
    expect(problemsOf({ NODE_ENV: "production" }).join()).toMatch(/^OTP_HMAC_SECRET:/);
  });

  it("refuses the outbox in production", () => {
    const problems = problemsOf({
      NODE_ENV: "production",
      OTP_HMAC_SECRET: secret,
      DEV_OUTBOX: "true",
    });
    expect(problems.some((p) => p.startsWith("DEV_OUTBOX:"))).toBe(true);
    const config = loadConfig({ NODE_ENV: "production", OTP_HMAC_SECRET: secret, ...keys });
    expect(config.outboxEnabled).toBe(false);
  });

  it("names every variable at fault, and never echoes a secret", () => {
    const problems = problemsOf({
      PORT: "http",
      OTP_HMAC_SECRET: "short-secret",
      LOG_LEVEL: "loud",
    });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "LOG_LEVEL",
      "OTP_HMAC_SECRET",
      "PORT",
    ]);
    expect(problems.join()).not.toContain("short-secret");
  });

  it("keeps previous secrets after the current one for rotation", () => {
    const previous = "p".repeat(32);
    const config = loadConfig({ OTP_HMAC_SECRET: secret, OTP_HMAC_PREVIOUS_SECRETS: previous });
    expect(config.hmacSecrets).toEqual([secret, previous]);
  });

  it("refuses an origin with a path in CORS_ORIGINS", () => {
    expect(problemsOf({ CORS_ORIGINS: "https://a.example/x" })[0]).toMatch(/^CORS_ORIGINS:/);
    expect(
      loadConfig({ CORS_ORIGINS: "https://a.example, http://localhost:3000" }).corsOrigins,
    ).toEqual(["https://a.example", "http://localhost:3000"]);
  });

  it("counts IPv6 callers per /64 unless RATE_LIMIT_IPV6_PREFIX says otherwise, within 32..128", () => {
    expect(loadConfig({}).rateLimits.ipv6PrefixLength).toBe(64);
    expect(loadConfig({ RATE_LIMIT_IPV6_PREFIX: "56" }).rateLimits.ipv6PrefixLength).toBe(56);
    expect(loadConfig({ RATE_LIMIT_IPV6_PREFIX: "128" }).rateLimits.ipv6PrefixLength).toBe(128);
    for (const bad of ["31", "129", "/64", "sixty-four"]) {
      expect(problemsOf({ RATE_LIMIT_IPV6_PREFIX: bad })[0]).toMatch(/^RATE_LIMIT_IPV6_PREFIX:/);
    }
  });
});

describe("Redis variables", () => {
  const withSecret = { OTP_HMAC_SECRET: secret, ...keys };

  it("reads one Redis, DB-index shards, URL shards and a cluster", () => {
    expect(
      loadConfig({ ...withSecret, REDIS_URL: "redis://127.0.0.1:6379" }).redis?.layout,
    ).toEqual({
      kind: "single",
      url: "redis://127.0.0.1:6379",
    });
    expect(
      loadConfig({ ...withSecret, REDIS_URL: "redis://h:1", REDIS_DB_RANGE: "2-5" }).redis?.layout,
    ).toEqual({ kind: "db-range", url: "redis://h:1", first: 2, last: 5 });
    expect(
      loadConfig({ ...withSecret, REDIS_SHARD_URLS: "redis://a:1, redis://b:2" }).redis?.layout,
    ).toEqual({ kind: "urls", urls: ["redis://a:1", "redis://b:2"] });
    expect(
      loadConfig({ ...withSecret, REDIS_CLUSTER_NODES: "a:7000,b:7001" }).redis?.layout,
    ).toEqual({
      kind: "cluster",
      nodes: [
        { host: "a", port: 7000 },
        { host: "b", port: 7001 },
      ],
    });
    expect(loadConfig({ ...withSecret, REDIS_URL: "redis://h:1" }).redis?.keyPrefix).toBe("otp:");
  });

  it("uses the in-memory store when no Redis variable is set", () => {
    expect(loadConfig({}).redis).toBeUndefined();
  });

  it.each([
    [{ REDIS_URL: "redis://a:1", REDIS_SHARD_URLS: "redis://b:1" }, "REDIS_URL"],
    [{ REDIS_DB_RANGE: "2-5" }, "REDIS_DB_RANGE"],
    [{ REDIS_URL: "redis://a:1", REDIS_DB_RANGE: "5-2" }, "REDIS_DB_RANGE"],
    [{ REDIS_URL: "redis://a:1", REDIS_DB_RANGE: "0-16" }, "REDIS_DB_RANGE"],
    [{ REDIS_URL: "http://user:hunter2@a:1" }, "REDIS_URL"],
    [{ REDIS_CLUSTER_NODES: "a" }, "REDIS_CLUSTER_NODES"],
  ])("refuses %o, naming %s and never a password", (env, variable) => {
    const problems = problemsOf({ ...withSecret, ...env });
    expect(problems[0]).toMatch(new RegExp(`^${variable}`));
    expect(problems.join()).not.toContain("hunter2");
  });

  it("asks for OTP_HMAC_SECRET and TOTP_ENCRYPTION_KEY with Redis even in development", () => {
    const problems = problemsOf({ REDIS_URL: "redis://a:1" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "OTP_HMAC_SECRET",
      "TOTP_ENCRYPTION_KEY",
    ]);
  });

  it("requires every production secret, naming each", () => {
    const problems = problemsOf({ NODE_ENV: "production" });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "OTP_HMAC_SECRET",
      "TOKEN_SIGNING_KEYS",
      "TOTP_ENCRYPTION_KEY",
    ]);
  });

  it("refuses a malformed TOKEN_SIGNING_KEYS or a short TOTP key", () => {
    const problems = problemsOf({
      TOKEN_SIGNING_KEYS: '[{"kty":"RSA"}]',
      TOTP_ENCRYPTION_KEY: "c2hvcnQ=",
    });
    expect(problems.map((p) => p.split(":")[0]).sort()).toEqual([
      "TOKEN_SIGNING_KEYS",
      "TOTP_ENCRYPTION_KEY",
    ]);
  });
});

describe("loadConfig: delivery", () => {
  const telegram = { TELEGRAM_BOT_TOKEN: "123456:ABC-def_ghi" };
  const twilio = {
    TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}`,
    TWILIO_AUTH_TOKEN: "b".repeat(32),
    TWILIO_SMS_FROM: "+14155550100",
  };
  const production = { NODE_ENV: "production", OTP_HMAC_SECRET: secret, ...keys };
  const names = (problems: string[]) => problems.map((p) => p.split(":")[0]).sort();

  it("configures no provider by default, with the documented defaults", () => {
    const { delivery } = loadConfig({});
    expect(delivery).toMatchObject({
      telegram: undefined,
      twilio: undefined,
      email: undefined,
      smsAllowedCountries: "all",
      defaultLocale: "en",
      retry: { maxAttempts: 4, baseDelayMs: 250, maxDelayMs: 2000, maxTotalMs: 10_000 },
      fallbackBudgetMs: 3000,
      providerTimeoutMs: 5000,
      watchMaxSeconds: 300,
      retentionSeconds: 86_400,
    });
  });

  it("polls Telegram in development and takes the webhook when its URL is set", () => {
    expect(loadConfig(telegram).delivery.telegram?.updates).toBe("polling");
    expect(loadConfig({ ...production, ...telegram }).delivery.telegram?.updates).toBe("off");
    const webhook = loadConfig({
      ...telegram,
      TELEGRAM_WEBHOOK_URL: "https://otp.example.com/tg/abc",
      TELEGRAM_WEBHOOK_SECRET: "x".repeat(32),
    }).delivery.telegram;
    expect(webhook).toMatchObject({ updates: "webhook", webhookSecret: "x".repeat(32) });
  });

  it("names what a webhook set-up misses, and never echoes a token", () => {
    const problems = problemsOf({
      TELEGRAM_BOT_TOKEN: "not-a-token-secret-value",
      TELEGRAM_UPDATES: "webhook",
    });
    expect(names(problems)).toEqual([
      "TELEGRAM_BOT_TOKEN",
      "TELEGRAM_WEBHOOK_SECRET",
      "TELEGRAM_WEBHOOK_URL",
    ]);
    expect(problems.join()).not.toContain("not-a-token-secret-value");
  });

  it("refuses webhook URLs whose path the service already serves", () => {
    const problems = problemsOf({
      ...telegram,
      TELEGRAM_WEBHOOK_URL: "https://otp.example.com/",
      TELEGRAM_WEBHOOK_SECRET: "x".repeat(32),
      ...twilio,
      TWILIO_STATUS_CALLBACK_URL: "https://otp.example.com/otp.v1.OtpService/Generate",
    });
    expect(names(problems)).toEqual(["TELEGRAM_WEBHOOK_URL", "TWILIO_STATUS_CALLBACK_URL"]);
  });

  it("refuses Telegram variables without a bot token, and self-destruct defaults out of range", () => {
    expect(names(problemsOf({ TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS: "30" }))).toEqual([
      "TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS",
    ]);
    expect(names(problemsOf({ ...telegram, TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS: "3" }))).toEqual(
      ["TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS"],
    );
    expect(
      loadConfig({ ...telegram, TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS: "60" }).delivery.telegram
        ?.selfDestructDefaultSeconds,
    ).toBe(60);
  });

  it("needs a Twilio sender and token, and an SMS allow-list in production", () => {
    expect(names(problemsOf({ TWILIO_ACCOUNT_SID: twilio.TWILIO_ACCOUNT_SID }))).toEqual([
      "TWILIO_ACCOUNT_SID",
      "TWILIO_AUTH_TOKEN",
    ]);
    expect(names(problemsOf({ ...production, ...twilio }))).toEqual(["SMS_ALLOWED_COUNTRIES"]);
    const config = loadConfig({ ...production, ...twilio, SMS_ALLOWED_COUNTRIES: "us, gb" });
    expect(config.delivery.smsAllowedCountries).toEqual(new Set(["US", "GB"]));
    // WhatsApp follows the SMS list unless given its own.
    expect(config.delivery.whatsappAllowedCountries).toEqual(new Set(["US", "GB"]));
    expect(loadConfig({ ...twilio, SMS_ALLOWED_COUNTRIES: "*" }).delivery.smsAllowedCountries).toBe(
      "all",
    );
    expect(names(problemsOf({ ...twilio, SMS_ALLOWED_COUNTRIES: "USA" }))).toEqual([
      "SMS_ALLOWED_COUNTRIES",
    ]);
  });

  it("needs EMAIL_FROM with a Resend key", () => {
    expect(names(problemsOf({ RESEND_API_KEY: "re_123" }))).toEqual(["EMAIL_FROM"]);
    expect(
      loadConfig({ RESEND_API_KEY: "re_123", EMAIL_FROM: "Acme <login@mail.acme.com>" }).delivery
        .email,
    ).toMatchObject({ from: "Acme <login@mail.acme.com>" });
  });

  it("reads template overrides, and refuses a template without the code", () => {
    const dir = mkdtempSync(join(tmpdir(), "otp-templates-"));
    const good = join(dir, "good.json");
    const bad = join(dir, "bad.json");
    writeFileSync(good, JSON.stringify({ en: { sms: { text: "{{code}} is your Acme code" } } }));
    writeFileSync(bad, JSON.stringify({ en: { sms: { text: "no code here" } } }));
    expect(loadConfig({ TEMPLATES_FILE: good }).delivery.templateOverrides).toEqual({
      en: { sms: { text: "{{code}} is your Acme code" } },
    });
    expect(names(problemsOf({ TEMPLATES_FILE: bad }))).toEqual(["TEMPLATES_FILE"]);
    expect(names(problemsOf({ TEMPLATES_FILE: join(dir, "missing.json") }))).toEqual([
      "TEMPLATES_FILE",
    ]);
    expect(names(problemsOf({ DEFAULT_LOCALE: "fr" }))).toEqual(["DEFAULT_LOCALE"]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("keeps the fallback budget within the retry budget, and the lease beyond the timeout", () => {
    expect(
      loadConfig({ DELIVERY_RETRY_BUDGET_MS: "2000", DELIVERY_FALLBACK_BUDGET_MS: "5000" }).delivery
        .fallbackBudgetMs,
    ).toBe(2000);
    expect(
      names(problemsOf({ PROVIDER_TIMEOUT_MS: "40000", TELEGRAM_DELETE_LEASE_MS: "30000" })),
    ).toEqual(["TELEGRAM_DELETE_LEASE_MS"]);
  });

  it("strips +tags for every domain by default, or for the listed ones, for the recipient limit", () => {
    expect(loadConfig({}).plusTagDomains).toBe("all");
    expect(loadConfig({ RATE_LIMIT_PLUS_TAG_DOMAINS: "fastmail.com" }).plusTagDomains).toEqual(
      new Set(["gmail.com", "googlemail.com", "fastmail.com"]),
    );
    expect(names(problemsOf({ RATE_LIMIT_PLUS_TAG_DOMAINS: "not a domain" }))).toEqual([
      "RATE_LIMIT_PLUS_TAG_DOMAINS",
    ]);
  });
});
