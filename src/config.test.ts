import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.js";

const secret = "s".repeat(40);

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
    const config = loadConfig({ NODE_ENV: "production", OTP_HMAC_SECRET: secret });
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
