import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { ErrorInfoSchema, RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { isOtpError, OtpError, toOtpError } from "./otp-error.js";

function serviceError(reason: string, retryAfterMs?: number, domain = "otp.v1"): ConnectError {
  const details: ConstructorParameters<typeof ConnectError>[3] = [
    {
      desc: ErrorInfoSchema,
      value: create(ErrorInfoSchema, { reason, domain, metadata: { field: "ttl_seconds" } }),
    },
  ];
  if (retryAfterMs !== undefined) {
    details.push({
      desc: RetryInfoSchema,
      value: create(RetryInfoSchema, { retryDelay: durationFromMs(retryAfterMs) }),
    });
  }
  return new ConnectError("too many requests", Code.ResourceExhausted, { "x-a": "1" }, details);
}

describe("toOtpError", () => {
  it("reads the reason, the metadata and the retry delay from the details", () => {
    const err = toOtpError(serviceError("RATE_LIMITED", 1_500));
    expect(err.code).toBe(Code.ResourceExhausted);
    expect(err.reason).toBe("RATE_LIMITED");
    expect(err.retryDelayMs).toBe(1_500);
    expect(err.info).toEqual({ field: "ttl_seconds" });
    expect(err.rawMessage).toBe("too many requests");
    expect(err.metadata.get("x-a")).toBe("1");
    expect(err.findDetails(ErrorInfoSchema)[0]?.reason).toBe("RATE_LIMITED");
  });

  it("leaves the reason undefined for errors that did not come from the service", () => {
    const err = toOtpError(new Error("socket hang up"));
    expect(err.code).toBe(Code.Unknown);
    expect(err.reason).toBeUndefined();
    expect(err.retryDelayMs).toBeUndefined();
    expect(toOtpError(serviceError("RATE_LIMITED", undefined, "other.v1")).reason).toBeUndefined();
  });

  it("returns an OtpError unchanged", () => {
    const err = toOtpError(serviceError("INTERNAL"));
    expect(toOtpError(err)).toBe(err);
  });
});

describe("OtpError", () => {
  it("is a ConnectError that Connect passes through unchanged", () => {
    const err = new OtpError("slow down", Code.ResourceExhausted, { reason: "RATE_LIMITED" });
    expect(err).toBeInstanceOf(ConnectError);
    expect(ConnectError.from(err)).toBe(err);
    expect(err.message).toBe("[resource_exhausted] slow down");
  });

  it("is not claimed by plain ConnectErrors", () => {
    expect(new ConnectError("x", Code.Internal) instanceof OtpError).toBe(false);
    expect(new Error("x") instanceof OtpError).toBe(false);
  });
});

describe("isOtpError", () => {
  it("matches by reason and narrows to the reason", () => {
    const err: unknown = toOtpError(serviceError("RESEND_COOLDOWN", 30_000));
    expect(isOtpError(err)).toBe(true);
    expect(isOtpError(err, "RATE_LIMITED")).toBe(false);
    if (!isOtpError(err, "RESEND_COOLDOWN")) throw new Error("expected a match");
    const reason: "RESEND_COOLDOWN" = err.reason;
    expect(reason).toBe("RESEND_COOLDOWN");
    expect(err.retryDelayMs).toBe(30_000);
  });

  it("is false for anything that is not an OtpError", () => {
    expect(isOtpError(serviceError("RATE_LIMITED"), "RATE_LIMITED")).toBe(false);
    expect(isOtpError(undefined)).toBe(false);
    expect(isOtpError("RATE_LIMITED")).toBe(false);
  });
});
