import { describe, expect, it } from "vitest";
import { retryDelayMs, shouldGiveUp } from "./backoff.js";

const policy = { baseMs: 5000, maxMs: 4 * 3_600_000, giveUpAfterMs: 26 * 3_600_000 };
const lowest = () => 0;
const highest = (n: number) => n - 1;

describe("retryDelayMs", () => {
  it("grows four times per attempt, between half and all of the step", () => {
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, n, lowest))).toEqual([
      2500, 10_000, 40_000, 160_000,
    ]);
    expect([1, 2, 3, 4].map((n) => retryDelayMs(policy, n, highest))).toEqual([
      5000, 20_000, 80_000, 320_000,
    ]);
  });

  it("stops growing at the cap", () => {
    expect(retryDelayMs(policy, 40, highest)).toBe(policy.maxMs);
    expect(retryDelayMs(policy, 40, lowest)).toBe(policy.maxMs / 2);
  });

  it("spreads retries with jitter", () => {
    const delays = new Set(Array.from({ length: 50 }, () => retryDelayMs(policy, 3)));
    expect(delays.size).toBeGreaterThan(10);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(40_000);
  });

  it("keeps retrying for at least 24 hours with the defaults", () => {
    let elapsed = 0;
    let attempt = 1;
    while (!shouldGiveUp(policy, 0, elapsed)) elapsed += retryDelayMs(policy, attempt++, highest);
    expect(elapsed).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(attempt).toBeLessThan(20);
  });
});
