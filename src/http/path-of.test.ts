import { describe, expect, it } from "vitest";
import { isUnder, pathOf } from "./path-of.js";

describe("pathOf", () => {
  it("drops the query and keeps a target without one as it is", () => {
    expect(pathOf("/demo/app.js?v=3&x=?")).toBe("/demo/app.js");
    expect(pathOf("/otp.v1.OtpService/Generate")).toBe("/otp.v1.OtpService/Generate");
    expect(pathOf("/?only=query")).toBe("/");
  });

  it("answers / for a request with no target", () => {
    expect(pathOf(undefined)).toBe("/");
    expect(pathOf("")).toBe("/");
  });
});

describe("isUnder", () => {
  it("matches the prefix itself and what lies below it, not a longer name", () => {
    expect(isUnder("/console", "/console")).toBe(true);
    expect(isUnder("/console/", "/console")).toBe(true);
    expect(isUnder("/console/app.js", "/console")).toBe(true);
    expect(isUnder("/consoles", "/console")).toBe(false);
    expect(isUnder("/con", "/console")).toBe(false);
  });
});
