import { describe, expect, it } from "vitest";
import { parseLimit, parsePlusTagDomains } from "./limits.js";

describe("parseLimit", () => {
  it.each([
    ["10/1m", 10, 60_000],
    ["60/m", 60, 60_000],
    ["5/1h", 5, 3_600_000],
    ["100/30s", 100, 30_000],
    ["1/s", 1, 1_000],
    ["1000000/24h", 1_000_000, 86_400_000],
    ["3/1440m", 3, 86_400_000],
    ["  7 / 2 m ", 7, 120_000],
    ["\t20/90s\n", 20, 90_000],
  ])("reads %j as %i per %i ms", (text, points, windowMs) => {
    expect(parseLimit(text)).toEqual({ points, windowMs });
  });

  it("reads off, with surrounding whitespace", () => {
    expect(parseLimit("off")).toBe("off");
    expect(parseLimit(" off ")).toBe("off");
  });

  it.each([
    "",
    "   ",
    "10",
    "10/",
    "/1m",
    "10/1",
    "10/1d",
    "10/1ms",
    "10/1M",
    "OFF",
    "none",
    "0/1m",
    "1000001/1m",
    "-1/1m",
    "+5/1m",
    "1.5/1m",
    "10/1.5m",
    "10/0s",
    "10/0m",
    "10/25h",
    "10/86401s",
    "10 per 1m",
    "10/1m/2",
    "99999999999999999999/1m",
  ])("refuses %j", (text) => {
    expect(() => parseLimit(text)).toThrow(Error);
  });

  it("says what form is accepted when refusing", () => {
    expect(() => parseLimit("ten a minute")).toThrow(/<count>\/<window>.*"off"/);
  });
});

describe("parsePlusTagDomains", () => {
  it('reads "*" as every domain', () => {
    expect(parsePlusTagDomains("*")).toBe("all");
  });

  it("reads a list, lower-cased, with Gmail's domains always in it", () => {
    expect(parsePlusTagDomains(" Fastmail.com., proton.me")).toEqual(
      new Set(["gmail.com", "googlemail.com", "fastmail.com", "proton.me"]),
    );
  });

  it("refuses something that is not a domain", () => {
    expect(() => parsePlusTagDomains("fastmail")).toThrow();
    expect(() => parsePlusTagDomains(",")).toThrow();
  });
});
