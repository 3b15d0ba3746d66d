import { describe, expect, it } from "vitest";
import { connectErrorFor, toConnectError } from "../rpc/to-connect-error.js";
import { OtpError } from "./otp-error.js";

const frames = (err: Error) => (err.stack ?? "").split("\n").filter((l) => l.includes("    at "));

describe("OtpError stack traces", () => {
  it("gives an expected refusal, and the ConnectError a client is sent, no stack frames", () => {
    const refusal = new OtpError("RATE_LIMITED", "too many calls", { retryAfterMs: 1000 });
    expect(frames(refusal)).toEqual([]);
    expect(refusal.stack).toContain("too many calls");
    expect(frames(toConnectError(refusal))).toEqual([]);
    expect(frames(connectErrorFor("CHALLENGE_NOT_FOUND", "no such challenge"))).toEqual([]);
  });

  it("keeps the trace of an error that wraps a cause, and leaves other errors theirs", () => {
    const wrapped = new OtpError("STORE_UNAVAILABLE", "the store is unreachable", {
      cause: new Error("ECONNREFUSED"),
    });
    expect(frames(wrapped).length).toBeGreaterThan(0);
    new OtpError("RATE_LIMITED", "too many calls");
    expect(frames(new Error("after")).length).toBeGreaterThan(0);
  });
});
