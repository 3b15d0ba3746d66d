import { describe, expect, it } from "vitest";
import { parseTrustedProxies } from "./server.js";

describe("parseTrustedProxies", () => {
  it("reads a comma-separated list of addresses, ranges and names", () => {
    expect(
      parseTrustedProxies(" 10.0.0.1 , 10.0.0.0/8,loopback, ::1, fd00::/8,10.0.0.0/255.0.0.0, "),
    ).toEqual(["10.0.0.1", "10.0.0.0/8", "loopback", "::1", "fd00::/8", "10.0.0.0/255.0.0.0"]);
    expect(parseTrustedProxies("linklocal,uniquelocal")).toEqual(["linklocal", "uniquelocal"]);
  });

  it("trusts nothing for empty text", () => {
    expect(parseTrustedProxies("")).toEqual([]);
    expect(parseTrustedProxies("  ")).toEqual([]);
  });

  it.each([
    "10",
    "127.1",
    "0x7f000001",
    "proxy.internal",
    "Loopback",
    "10.0.0.0/33",
    "10.0.0.0/",
    "10.0.0.0/x",
    "0.0.0.0/0",
    "10.0.0.1 10.0.0.2",
  ])("refuses %j and names it", (entry) => {
    expect(() => parseTrustedProxies(`loopback, ${entry}`)).toThrow(`"${entry}"`);
  });
});
