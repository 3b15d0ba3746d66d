import { describe, expect, it } from "vitest";
import { ipLimitKey } from "./ip-limit-key.js";

describe("ipLimitKey", () => {
  it("keys an IPv4 address by itself", () => {
    expect(ipLimitKey("203.0.113.7")).toBe("203.0.113.7");
    expect(ipLimitKey("203.0.113.7")).not.toBe(ipLimitKey("203.0.113.8"));
  });

  it("gives every address of one IPv6 /64 the same key", () => {
    const a = ipLimitKey("2001:db8:0:1::1");
    expect(ipLimitKey("2001:db8:0:1:ffff:ffff:ffff:ffff")).toBe(a);
    expect(ipLimitKey("2001:0DB8:0000:0001:abcd:0:0:9")).toBe(a);
    expect(a.endsWith("/64")).toBe(true);
  });

  it("gives neighbouring /64s different keys", () => {
    expect(ipLimitKey("2001:db8:0:1::1")).not.toBe(ipLimitKey("2001:db8:0:2::1"));
  });

  it("widens or narrows the network with the prefix length", () => {
    expect(ipLimitKey("2001:db8:0:1::1", 48)).toBe(ipLimitKey("2001:db8:0:ff::1", 48));
    expect(ipLimitKey("2001:db8:1::1", 48)).not.toBe(ipLimitKey("2001:db8:2::1", 48));
    // A prefix that is not a multiple of 8 masks inside a byte.
    expect(ipLimitKey("2001:db8:0:1::", 63)).toBe(ipLimitKey("2001:db8:0:0::", 63));
    expect(ipLimitKey("2001:db8:0:2::", 63)).not.toBe(ipLimitKey("2001:db8:0:0::", 63));
    expect(ipLimitKey("2001:db8::1", 128)).not.toBe(ipLimitKey("2001:db8::2", 128));
  });

  it("treats an IPv4-mapped IPv6 address as the IPv4 address", () => {
    expect(ipLimitKey("::ffff:203.0.113.7")).toBe("203.0.113.7");
    expect(ipLimitKey("::FFFF:cb00:7107")).toBe("203.0.113.7");
  });

  it("ignores a zone id", () => {
    expect(ipLimitKey("fe80::1%eth0")).toBe(ipLimitKey("fe80::2%eth1"));
  });

  it("passes anything that is not an address through unchanged", () => {
    expect(ipLimitKey("unknown")).toBe("unknown");
    expect(ipLimitKey("1")).toBe("1");
  });
});
