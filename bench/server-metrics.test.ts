import { describe, expect, it } from "vitest";
import { parseSamples, shareWithin } from "./server-metrics.js";

// Two scrapes of the service's histogram, as /metrics prints it.
const scrape = (ok: [number, number], denied: [number, number]) =>
  parseSamples(
    [
      "# TYPE otp_rpc_duration_seconds histogram",
      `otp_rpc_duration_seconds_bucket{method="otp.v1.OtpService/Generate",code="ok",le="0.01"} ${ok[0]}`,
      `otp_rpc_duration_seconds_count{method="otp.v1.OtpService/Generate",code="ok"} ${ok[1]}`,
      `otp_rpc_duration_seconds_bucket{method="otp.v1.OtpService/Generate",code="permission_denied",le="0.01"} ${denied[0]}`,
      `otp_rpc_duration_seconds_count{method="otp.v1.OtpService/Generate",code="permission_denied"} ${denied[1]}`,
      `otp_rpc_duration_seconds_bucket{method="otp.v1.OtpService/Verify",code="ok",le="0.01"} 5`,
      `otp_rpc_duration_seconds_count{method="otp.v1.OtpService/Verify",code="ok"} 900`,
    ].join("\n"),
  );

describe("the share of calls the service answered within a bound", () => {
  it("counts only the calls between the two scrapes, of the one method, every code", () => {
    const before = scrape([100, 120], [0, 0]);
    const after = scrape([1080, 1120], [18, 20]);
    // (980 + 18) of (1000 + 20) calls within 10 ms; Verify's 900 are another method's.
    expect(shareWithin(before, after, "otp.v1.OtpService/Generate", 0.01)).toBeCloseTo(998 / 1020);
  });

  it("is unknown when no call was counted", () => {
    const same = scrape([100, 120], [0, 0]);
    expect(shareWithin(same, same, "otp.v1.OtpService/Generate", 0.01)).toBeUndefined();
  });
});
