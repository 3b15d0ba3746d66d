import {
  DataPointType,
  type HistogramMetricData,
  type SumMetricData,
} from "@opentelemetry/sdk-metrics";
import { describe, expect, it } from "vitest";
import { createCallTallies } from "./call-tallies.js";

const known = new Set(["verified", "invalid_code"]);
const byResult = (result: string) => ({ result: known.has(result) ? result : "other" });

describe("createCallTallies", () => {
  it("counts each series under its attributes, cumulatively across collections", () => {
    const tallies = createCallTallies("otp-service");
    const verified = tallies.counter("otp_verifications", "Verifications.", byResult);
    verified.add(1, "verified");
    verified.add(1, "verified");
    verified.add(1, "invalid_code");
    const first = tallies.collect();
    verified.add(1, "verified");
    const second = tallies.collect();

    expect(first.scope.name).toBe("otp-service");
    const sum = second.metrics[0] as SumMetricData;
    expect(sum.dataPointType).toBe(DataPointType.SUM);
    expect(sum.isMonotonic).toBe(true);
    expect(sum.dataPoints.map((p) => [p.attributes.result, p.value])).toEqual([
      ["verified", 3],
      ["invalid_code", 1],
    ]);
  });

  it("folds raw values with the same attributes into one series, and stays bounded", () => {
    const tallies = createCallTallies("s");
    const verified = tallies.counter("c", "", byResult);
    // A flood of values no caller should send: one series, every call counted.
    for (let i = 0; i < 5_000; i++) verified.add(1, `code-${i}`);
    verified.add(1, "verified");
    const points = (tallies.collect().metrics[0] as SumMetricData).dataPoints;
    expect(points.map((p) => [p.attributes.result, p.value])).toEqual([
      ["other", 5_000],
      ["verified", 1],
    ]);
  });

  it("puts a value on a bound into that bound's bucket, above the last into the open one", () => {
    const tallies = createCallTallies("s");
    const latency = tallies.histogram("h", "Latency.", "s", [0.001, 0.005], (method, code) => ({
      method,
      code,
    }));
    for (const v of [0.0005, 0.001, 0.003, 0.005, 0.2]) latency.add(v, "Verify", "ok");
    latency.add(0.002, "Verify", "internal");
    const histogram = tallies.collect().metrics[0] as HistogramMetricData;
    expect(histogram.dataPointType).toBe(DataPointType.HISTOGRAM);
    const ok = histogram.dataPoints.find((p) => p.attributes.code === "ok");
    expect(ok?.value.buckets).toEqual({ boundaries: [0.001, 0.005], counts: [2, 2, 1] });
    expect(ok?.value.count).toBe(5);
    expect(ok?.value.sum).toBeCloseTo(0.2095);
    expect([ok?.value.min, ok?.value.max]).toEqual([0.0005, 0.2]);
    expect(histogram.dataPoints).toHaveLength(2);
  });

  it("ignores values a latency or a count cannot be", () => {
    const tallies = createCallTallies("s");
    const latency = tallies.histogram("h", "", "s", [1], () => ({}));
    const count = tallies.counter("c", "", () => ({}));
    for (const v of [Number.NaN, -1, Number.POSITIVE_INFINITY]) {
      latency.add(v, "a");
      count.add(v, "a");
    }
    const [h, c] = tallies.collect().metrics as [HistogramMetricData, SumMetricData];
    expect(h.dataPoints).toEqual([]);
    expect(c.dataPoints).toEqual([]);
  });
});
