import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

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
