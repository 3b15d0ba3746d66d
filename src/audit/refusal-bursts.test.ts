import { describe, expect, it } from "vitest";
import type { SecurityEvent } from "./audit-recorder.js";
import { createRefusalBursts } from "./refusal-bursts.js";

function setup(threshold = 3) {
  let t = 0;
  const events: SecurityEvent[] = [];
  const bursts = createRefusalBursts({
    threshold,
    windowMs: 60_000,
    onBurst: (e) => events.push(e),
    now: () => t,
  });
  return { bursts, events, advance: (ms: number) => (t += ms) };
}

describe("refusal bursts", () => {
  it("reports a burst once when a tenant's refusals of one reason reach the threshold", () => {
    const { bursts, events } = setup(3);
    for (let i = 0; i < 10; i++) bursts.refused("RATE_LIMITED", "ten_1");
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      tenantId: "ten_1",
      action: "refusals.burst",
      target: "RATE_LIMITED",
      details: { count: "3" },
    });
  });

  it("keeps tenants and reasons apart, and starts over in the next window", () => {
    const { bursts, events, advance } = setup(2);
    bursts.refused("RATE_LIMITED", "ten_1");
    bursts.refused("QUOTA_EXCEEDED", "ten_1");
    bursts.refused("RATE_LIMITED", "ten_2");
    expect(events).toHaveLength(0);
    advance(60_000);
    bursts.refused("RATE_LIMITED", "ten_1");
    expect(events).toHaveLength(0);
    bursts.refused("RATE_LIMITED", "ten_1");
    expect(events.map((e) => e.tenantId)).toEqual(["ten_1"]);
  });
});
