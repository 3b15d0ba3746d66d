import { describe, expect, it } from "vitest";
import { gcDuring, parseSamples, shareWithin } from "./server-metrics.js";

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

// Two scrapes of the runtime metrics' GC histogram, as /metrics prints it.
const gcScrape = (major: [number, number], minor: [number, number]) =>
  parseSamples(
    [
      "# TYPE v8js_gc_duration histogram",
      `v8js_gc_duration_count{v8js_gc_type="major",otel_scope_name="@opentelemetry/instrumentation-runtime-node"} ${major[0]}`,
      `v8js_gc_duration_sum{v8js_gc_type="major",otel_scope_name="@opentelemetry/instrumentation-runtime-node"} ${major[1]}`,
      `v8js_gc_duration_count{v8js_gc_type="minor",otel_scope_name="@opentelemetry/instrumentation-runtime-node"} ${minor[0]}`,
      `v8js_gc_duration_sum{v8js_gc_type="minor",otel_scope_name="@opentelemetry/instrumentation-runtime-node"} ${minor[1]}`,
    ].join("\n"),
  );

describe("the garbage collection during a window", () => {
  it("counts the full collections and the GC time of every kind per 1,000 calls", () => {
    const before = gcScrape([4, 0.02], [100, 0.15]);
    const after = gcScrape([7, 0.035], [160, 0.255]);
    // 3 full collections; 15 ms + 105 ms of GC over 12,000 calls.
    const gc = gcDuring(before, after, 12_000);
    expect(gc?.majorGcs).toBe(3);
    expect(gc?.gcMsPerThousand).toBeCloseTo(10);
  });

  it("is unknown for a service that exports no GC metric", () => {
    const none = parseSamples("otp_challenges_generated_total 3");
    expect(gcDuring(none, none, 100)).toBeUndefined();
  });
});
