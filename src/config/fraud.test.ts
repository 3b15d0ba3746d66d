import { describe, expect, it } from "vitest";
import { fraudVariables, parseRate, readFraud } from "./fraud.js";
import { type Context, parseVariables } from "./schema.js";

function read(env: Record<string, string>, mode: "development" | "production") {
  const problems: string[] = [];
  const v = parseVariables(fraudVariables, env, problems);
  const ctx: Context = {
    mode,
    isSet: (name) => env[name] !== undefined,
    redisConfigured: false,
    problem: (name, message) => problems.push(`${name}: ${message}`),
  };
  return { config: readFraud(v, ctx), problems };
}

describe("the fraud guard's configuration", () => {
  it("enforces in production and only reports in development by default", () => {
    expect(read({}, "production").config.mode).toBe("enforce");
    expect(read({}, "development").config.mode).toBe("report");
    expect(read({ FRAUD_GUARD: "off" }, "production").config.mode).toBe("off");
  });

  it("has the documented defaults, in milliseconds", () => {
    expect(read({}, "production").config).toEqual({
      mode: "enforce",
      windowMs: 3_600_000,
      minSends: 30,
      minVerifyRate: 0.2,
      cooldownMs: 3_600_000,
      prefixDigits: 3,
      evaluateMs: 2000,
    });
  });

  it("names every variable out of range", () => {
    const { problems } = read(
      { FRAUD_GUARD: "block", FRAUD_MIN_VERIFY_RATE: "1.5", FRAUD_WINDOW_SECONDS: "30" },
      "production",
    );
    expect(problems.map((p) => p.split(":")[0])).toEqual([
      "FRAUD_GUARD",
      "FRAUD_WINDOW_SECONDS",
      "FRAUD_MIN_VERIFY_RATE",
    ]);
  });

  it("reads a rate as a decimal from 0 to 1", () => {
    expect(parseRate("0.25")).toBe(0.25);
    expect(parseRate(".5")).toBe(0.5);
    expect(parseRate("1")).toBe(1);
    expect(() => parseRate("20%")).toThrow();
    expect(() => parseRate("-0.1")).toThrow();
    expect(() => parseRate("")).toThrow();
  });
});
