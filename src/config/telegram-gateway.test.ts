import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./index.js";

const token = "gw-token-0123456789abcdef";

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe("Telegram Gateway configuration", () => {
  it("turns the channel on with its token, Telegram's own API by default", () => {
    const { delivery } = loadConfig({ TELEGRAM_GATEWAY_TOKEN: token });
    expect(delivery.telegramGateway).toEqual({
      token,
      baseUrl: "https://gatewayapi.telegram.org",
      callbackUrl: undefined,
      senderUsername: undefined,
      reportMaxAgeMs: 300_000,
    });
    expect(loadConfig({}).delivery.telegramGateway).toBeUndefined();
  });

  it("refuses its other variables without the token", () => {
    const problems = problemsOf({ TELEGRAM_GATEWAY_BASE_URL: "http://127.0.0.1:1" });
    expect(problems.map((p) => p.split(":")[0])).toEqual(["TELEGRAM_GATEWAY_BASE_URL"]);
  });

  it("refuses a callback path the service already serves, and never echoes the token", () => {
    const problems = problemsOf({
      TELEGRAM_GATEWAY_TOKEN: token,
      TELEGRAM_GATEWAY_CALLBACK_URL: "https://otp.example.com/metrics",
    });
    expect(problems.map((p) => p.split(":")[0])).toEqual(["TELEGRAM_GATEWAY_CALLBACK_URL"]);
    expect(problemsOf({ TELEGRAM_GATEWAY_TOKEN: "short" }).join()).not.toContain("short");
  });
});

describe("Twilio voice configuration", () => {
  const twilio = {
    TWILIO_ACCOUNT_SID: `AC${"0".repeat(32)}`,
    TWILIO_AUTH_TOKEN: "f".repeat(32),
  };

  it("takes TWILIO_VOICE_FROM as the only sender", () => {
    const { delivery } = loadConfig({ ...twilio, TWILIO_VOICE_FROM: "+14155550199" });
    expect(delivery.twilio).toMatchObject({ voiceFrom: "+14155550199", smsFrom: undefined });
  });

  it("refuses a voice sender that is not an E.164 number", () => {
    const problems = problemsOf({ ...twilio, TWILIO_VOICE_FROM: "Acme" });
    expect(problems.map((p) => p.split(":")[0])).toContain("TWILIO_VOICE_FROM");
  });
});
