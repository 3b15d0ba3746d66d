import { describe, expect, it } from "vitest";
import { usageKey } from "./charges.js";

describe("usageKey", () => {
  it("names the UTC day of the call, whichever day came before it", () => {
    const midnight = Date.UTC(2026, 10, 30);
    expect(usageKey("otp:", "t1", midnight - 1)).toBe("otp:usage:t1:2026-11-29");
    expect(usageKey("otp:", "t1", midnight)).toBe("otp:usage:t1:2026-11-30");
    expect(usageKey("otp:", "t2", midnight + 86_399_999)).toBe("otp:usage:t2:2026-11-30");
    expect(usageKey("otp:", "t2", midnight + 86_400_000)).toBe("otp:usage:t2:2026-12-01");
    // A call stamped earlier than the last one (another replica's clock, a retry) still gets its own day.
    expect(usageKey("x:", "t1", midnight - 86_400_001)).toBe("x:usage:t1:2026-11-28");
  });
});
