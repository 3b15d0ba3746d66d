import { describe, expect, it } from "vitest";
import { usageKey } from "./redis/charges.js";
import { utcDay } from "./usage-day.js";

describe("utcDay", () => {
  it("names the UTC day of the call, whichever day came before it", () => {
    const midnight = Date.UTC(2026, 10, 30);
    expect(utcDay(midnight - 1)).toBe("2026-11-29");
    expect(utcDay(midnight)).toBe("2026-11-30");
    expect(utcDay(midnight + 86_399_999)).toBe("2026-11-30");
    expect(utcDay(midnight + 86_400_000)).toBe("2026-12-01");
    // A call stamped earlier than the last one (another replica's clock, a retry) still gets its own day.
    expect(utcDay(midnight - 86_400_001)).toBe("2026-11-28");
  });

  it("is the day in a tenant's Redis usage key", () => {
    const midnight = Date.UTC(2026, 10, 30);
    expect(usageKey("otp:", "t1", midnight - 1)).toBe("otp:usage:t1:2026-11-29");
    expect(usageKey("x:", "t2", midnight)).toBe("x:usage:t2:2026-11-30");
  });
});
