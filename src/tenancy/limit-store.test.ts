import { describe, expect, it } from "vitest";
import { type CallCharges, chargesWithLimits, type LimitCharge } from "./limit-store.js";

const perChallenge: LimitCharge = {
  bucket: "verify_challenge",
  key: "c1",
  limit: { points: 5, windowMs: 60_000 },
  withChallenge: true,
};

describe("chargesWithLimits", () => {
  it("replaces the limits and keeps the usage and the fail-open callback", () => {
    const onFailedOpen = () => {};
    const given: CallCharges = {
      limits: [],
      usage: { tenantId: "t", counters: ["verify"], atMs: 1 },
      onFailedOpen,
    };
    expect(chargesWithLimits(given, [perChallenge])).toEqual({
      limits: [perChallenge],
      usage: given.usage,
      onFailedOpen,
    });
    expect(given.limits).toEqual([]);
  });

  it("adds no usage or callback a call did not have", () => {
    expect(chargesWithLimits(undefined, [perChallenge])).toStrictEqual({ limits: [perChallenge] });
  });
});
