import { describe, expect, it } from "vitest";
import { maskIp } from "./mask-ip.js";

describe("maskIp", () => {
  it("keeps the network of an address and drops the host", () => {
    expect(maskIp("203.0.113.77")).toBe("203.0.113.0/24");
    expect(maskIp("2001:db8:5:1::9")).toBe("2001:db8:5::/48");
    expect(maskIp("::ffff:192.0.2.1")).toBe("192.0.2.0/24");
  });

  it("reads anything that is not an address as unknown", () => {
    expect(maskIp("unknown")).toBe("unknown");
    expect(maskIp("")).toBe("unknown");
  });
});
