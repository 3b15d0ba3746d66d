import { describe, expect, it } from "vitest";
import { parseCidrList } from "../config/index.js";
import { createNetworkCheck, crossSiteReason, readCookie } from "./console-gate.js";

const headers = (values: Record<string, string>) => ({
  get: (name: string) => values[name] ?? null,
});

describe("console gate", () => {
  it("allows only the listed networks, IPv4-mapped addresses as IPv4", () => {
    const allowed = createNetworkCheck(parseCidrList("10.0.0.0/8, 2001:db8::/32, 192.0.2.7"));
    expect(allowed("10.9.8.7")).toBe(true);
    expect(allowed("::ffff:10.1.1.1")).toBe(true);
    expect(allowed("2001:db8:1::5")).toBe(true);
    expect(allowed("192.0.2.7")).toBe(true);
    expect(allowed("192.0.2.8")).toBe(false);
    expect(allowed("11.0.0.1")).toBe(false);
    expect(allowed("unknown")).toBe(false);
    expect(createNetworkCheck([])("203.0.113.1")).toBe(true);
  });

  it("reads one cookie out of a Cookie header", () => {
    expect(readCookie("a=1; otp_console=abc; b=2", "otp_console")).toBe("abc");
    expect(readCookie("otp_console_x=1", "otp_console")).toBeUndefined();
    expect(readCookie(null, "otp_console")).toBeUndefined();
  });

  it("tells same-origin requests from cross-site ones", () => {
    const same = { host: "console.example.com", origin: "https://console.example.com" };
    expect(crossSiteReason(headers(same))).toBeUndefined();
    expect(crossSiteReason(headers({ ...same, "sec-fetch-site": "same-origin" }))).toBeUndefined();
    expect(crossSiteReason(headers({ ...same, "sec-fetch-site": "same-site" }))).toBe("cross_site");
    expect(crossSiteReason(headers({ ...same, origin: "https://evil.example" }))).toBe(
      "cross_site",
    );
    expect(crossSiteReason(headers({ ...same, origin: "null" }))).toBe("cross_site");
    expect(crossSiteReason(headers({ host: same.host }))).toBe("cross_site");
    // A same-origin GET carries no Origin; a read is allowed without one.
    expect(crossSiteReason(headers({ host: same.host }), true)).toBeUndefined();
    expect(
      crossSiteReason(headers({ host: same.host, "sec-fetch-site": "cross-site" }), true),
    ).toBe("cross_site");
  });
});
