import { describe, expect, it } from "vitest";
import { maskAddress } from "./mask-address.js";

describe("maskAddress", () => {
  it("keeps the /24 of an IPv4 address", () => {
    expect(maskAddress("203.0.113.7")).toBe("203.0.113.0/24");
    expect(maskAddress("::ffff:198.51.100.200")).toBe("198.51.100.0/24");
  });

  it("keeps the /48 of an IPv6 address", () => {
    expect(maskAddress("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1::/48");
    expect(maskAddress("::1")).toBe("::/48");
  });

  it("reads anything else as unknown", () => {
    expect(maskAddress("unknown")).toBe("unknown");
    expect(maskAddress("")).toBe("unknown");
    expect(maskAddress("10.0.0.1; DROP")).toBe("unknown");
  });
});
