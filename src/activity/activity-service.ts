import {
  type ActivityStore,
  bucketStart,
  bucketStarts,
  bucketWidthMs,
  hourMs,
  minuteMs,
  type Resolution,
} from "./activity-store.js";
import {
  addCounts,
  conversion,
  emptyTotals,
  mergeHistograms,
  quantileMs,
  type SegmentCounts,
  type Totals,
} from "./activity-totals.js";

/** A stretch of time ending now. */
export type WindowName = "hour" | "day" | "month";

/** Figures that a time series can draw. */
export type SeriesMetric =
  | "generated"
  | "verified"
  | "verifications"
  | "conversion"
  | "rate_limited"
  | "errors"
  | "calls"
  | "latency_p50_ms"
  | "latency_p95_ms"
  | "deliveries";

/** One segment's conversion. */
export interface Segment extends SegmentCounts {
  key: string;
  conversion: number;
}

/** The console's headline figures over one window. */
export interface Overview {
  fromMs: number;
  toMs: number;
  activeChallenges: number;
  generated: number;
  verified: number;
  generatedPerMinute: number;
  verifiedPerMinute: number;
  conversion: number;
  byChannel: Segment[];
  byCountry: Segment[];
  byTenant: Segment[];
  verificationsByResult: Record<string, number>;
  latencyP50Ms: number;
  latencyP95Ms: number;
  latencyByMethod: { method: string; calls: number; p50Ms: number; p95Ms: number }[];
  rateLimitedByLimit: Record<string, number>;
  refusedByReason: Record<string, number>;
  deliveries: { channel: string; status: string; count: number }[];
  calls: number;
  errors: number;
  errorRate: number;
  errorsByCode: Record<string, number>;
}

/** The methods whose latency the overview's p50 and p95 summarise. */
export const headlineMethods: readonly string[] = [
  "otp.v1.OtpService/Generate",
  "otp.v1.OtpService/Verify",
];

// Challenges live at most an hour (ttl_seconds 1..3600), plus the minute in progress.
const activeHorizonMs = hourMs + 2 * minuteMs;

/** Reads the activity counters as the console shows them. */
export interface ActivityService {
  /** The figures of `window`, for one tenant (or all when undefined). */
  overview(window: WindowName, tenantId: string | undefined): Promise<Overview>;
  /** One value per bucket of `resolution` over `window`, oldest first, empty buckets as 0. */
  series(
    metric: SeriesMetric,
    window: WindowName,
    resolution: Resolution,
    tenantId: string | undefined,
  ): Promise<{ startMs: number; value: number }[]>;
}

/** The resolution the overview reads a window at. */
export function defaultResolution(window: WindowName): Resolution {
  return window === "hour" ? "minute" : "hour";
}

/** The first bucket start of `window` at `resolution`, so that the current bucket is the last. */
export function windowStart(window: WindowName, resolution: Resolution, nowMs: number): number {
  const span = window === "hour" ? hourMs : window === "day" ? 24 * hourMs : 30 * 24 * hourMs;
  return bucketStart(resolution, nowMs) - span + bucketWidthMs(resolution);
}

/** Creates the {@link ActivityService} over a store. */
export function createActivityService(store: ActivityStore, now: () => number): ActivityService {
  return {
    async overview(window, tenantId) {
      const t = now();
      const resolution = defaultResolution(window);
      const fromMs = windowStart(window, resolution, t);
      const current = bucketStart("minute", t);
      const [buckets, ahead] = await Promise.all([
        store.read(resolution, fromMs, t + 1),
        store.read("minute", current, current + activeHorizonMs),
      ]);
      const totals = emptyTotals();
      for (const b of buckets) addCounts(totals, b.counts, tenantId);
      const active = emptyTotals();
      for (const b of ahead) addCounts(active, b.counts, tenantId);
      return toOverview(totals, Math.max(0, active.active), fromMs, t);
    },
    async series(metric, window, resolution, tenantId) {
      const t = now();
      const fromMs = windowStart(window, resolution, t);
      const buckets = await store.read(resolution, fromMs, t + 1);
      const byStart = new Map(buckets.map((b) => [b.startMs, b.counts]));
      return bucketStarts(resolution, fromMs, t + 1).map((startMs) => {
        const totals = emptyTotals();
        const counts = byStart.get(startMs);
        if (counts !== undefined) addCounts(totals, counts, tenantId);
        return { startMs, value: metricOf(metric, totals) };
      });
    },
  };
}

function metricOf(metric: SeriesMetric, t: Totals): number {
  switch (metric) {
    case "generated":
      return t.generated;
    case "verified":
      return t.verified;
    case "verifications":
      return t.verifications;
    case "conversion":
      return conversion(t.generated, t.verified);
    case "rate_limited":
      return sum(t.rateLimited.values());
    case "errors":
      return t.errors;
    case "calls":
      return t.calls;
    case "latency_p50_ms":
      return quantileMs(headline(t), 0.5);
    case "latency_p95_ms":
      return quantileMs(headline(t), 0.95);
    case "deliveries":
      return sum(t.deliveries.values());
  }
}

function headline(t: Totals): number[] {
  return mergeHistograms(headlineMethods.map((m) => t.latency.get(m) ?? []));
}

function sum(values: Iterable<number>): number {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

function segments(map: Map<string, SegmentCounts>): Segment[] {
  return [...map]
    .map(([key, s]) => ({ key, ...s, conversion: conversion(s.generated, s.verified) }))
    .sort((a, b) => b.generated - a.generated || a.key.localeCompare(b.key));
}

function toOverview(t: Totals, active: number, fromMs: number, toMs: number): Overview {
  const minutes = Math.max(1, (toMs - fromMs) / minuteMs);
  const latencyByMethod = [...t.latency]
    .map(([method, buckets]) => ({
      method,
      calls: sum(buckets),
      p50Ms: quantileMs(buckets, 0.5),
      p95Ms: quantileMs(buckets, 0.95),
    }))
    .sort((a, b) => a.method.localeCompare(b.method));
  const main = headline(t);
  return {
    fromMs,
    toMs,
    activeChallenges: active,
    generated: t.generated,
    verified: t.verified,
    generatedPerMinute: t.generated / minutes,
    verifiedPerMinute: t.verified / minutes,
    conversion: conversion(t.generated, t.verified),
    byChannel: segments(t.byChannel),
    byCountry: segments(t.byCountry),
    byTenant: segments(t.byTenant),
    verificationsByResult: Object.fromEntries(t.byResult),
    latencyP50Ms: quantileMs(main, 0.5),
    latencyP95Ms: quantileMs(main, 0.95),
    latencyByMethod,
    rateLimitedByLimit: Object.fromEntries(t.rateLimited),
    refusedByReason: Object.fromEntries(t.refused),
    deliveries: [...t.deliveries].map(([key, count]) => {
      const [channel = "", status = ""] = key.split("|");
      return { channel, status, count };
    }),
    calls: t.calls,
    errors: t.errors,
    errorRate: t.calls > 0 ? t.errors / t.calls : 0,
    errorsByCode: Object.fromEntries(t.errorsByCode),
  };
}
