import { describe, expect, it } from "vitest";
import { type FraudThresholds, isPumped, resolveThresholds } from "./thresholds.js";

const thresholds: FraudThresholds = {
  mode: "enforce",
  windowMs: 3_600_000,
  minSends: 30,
  minVerifyRate: 0.2,
  cooldownMs: 3_600_000,
};

describe("isPumped", () => {
  it("never judges a prefix under the floor, however few codes were verified", () => {
    expect(isPumped({ sends: 29, verified: 0 }, thresholds)).toBe(false);
  });

  it("judges a prefix at the floor with a verification rate under the threshold as pumped", () => {
    expect(isPumped({ sends: 30, verified: 5 }, thresholds)).toBe(true);
    expect(isPumped({ sends: 100, verified: 0 }, thresholds)).toBe(true);
  });

  it("lets a prefix at or over the rate pass", () => {
    expect(isPumped({ sends: 30, verified: 6 }, thresholds)).toBe(false);
    expect(isPumped({ sends: 1000, verified: 900 }, thresholds)).toBe(false);
  });

  it("judges nothing when the mode is off", () => {
    expect(isPumped({ sends: 100, verified: 0 }, { ...thresholds, mode: "off" })).toBe(false);
  });
});

describe("resolveThresholds", () => {
  it("gives a tenant without overrides the service-wide thresholds", () => {
    expect(resolveThresholds(thresholds, undefined)).toBe(thresholds);
  });

  it("lays a tenant's overrides over the service-wide thresholds", () => {
    expect(resolveThresholds(thresholds, { minSends: 100, mode: "report" })).toEqual({
      ...thresholds,
      minSends: 100,
      mode: "report",
    });
  });
});
