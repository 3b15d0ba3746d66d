import { latencyBucketBounds } from "../core/latency-buckets.js";
import { parseField } from "./activity-fields.js";

/** Generated and verified counts of one segment (a channel, country or tenant). */
export interface SegmentCounts {
  generated: number;
  verified: number;
}

/** Counters summed over some buckets, for one tenant or all. */
export interface Totals {
  generated: number;
  verified: number;
  verifications: number;
  byResult: Map<string, number>;
  byChannel: Map<string, SegmentCounts>;
  byCountry: Map<string, SegmentCounts>;
  byTenant: Map<string, SegmentCounts>;
  /** Method -> count per latency bucket (the last one open). */
  latency: Map<string, number[]>;
  calls: number;
  errors: number;
  errorsByCode: Map<string, number>;
  rateLimited: Map<string, number>;
  refused: Map<string, number>;
  /** `<channel>|<status>` -> count. */
  deliveries: Map<string, number>;
  /** The sum of the active-challenge counters (`e`). */
  active: number;
}

/** Empty {@link Totals}. */
export function emptyTotals(): Totals {
  return {
    generated: 0,
    verified: 0,
    verifications: 0,
    byResult: new Map(),
    byChannel: new Map(),
    byCountry: new Map(),
    byTenant: new Map(),
    latency: new Map(),
    calls: 0,
    errors: 0,
    errorsByCode: new Map(),
    rateLimited: new Map(),
    refused: new Map(),
    deliveries: new Map(),
    active: 0,
  };
}

const bump = (map: Map<string, number>, key: string, n: number) =>
  map.set(key, (map.get(key) ?? 0) + n);

function segment(map: Map<string, SegmentCounts>, key: string): SegmentCounts {
  let s = map.get(key);
  if (s === undefined) {
    s = { generated: 0, verified: 0 };
    map.set(key, s);
  }
  return s;
}

/**
 * Adds one bucket's counters to `totals`: every tenant's when `tenantId` is
 * undefined, that tenant's only otherwise. Counter names this version does
 * not know are skipped.
 */
export function addCounts(
  totals: Totals,
  counts: ReadonlyMap<string, number>,
  tenantId: string | undefined,
): void {
  for (const [field, n] of counts) {
    const f = parseField(field);
    if (f === undefined || (tenantId !== undefined && f.tenant !== tenantId)) continue;
    const [a = "", b = "", c = ""] = f.rest;
    switch (f.kind) {
      case "g":
        totals.generated += n;
        for (const [map, key] of segmentsOf(totals, f.tenant, a, b))
          segment(map, key).generated += n;
        break;
      case "v":
        totals.verifications += n;
        bump(totals.byResult, c, n);
        if (c !== "verified") break;
        totals.verified += n;
        for (const [map, key] of segmentsOf(totals, f.tenant, a, b))
          segment(map, key).verified += n;
        break;
      case "n":
        totals.calls += n;
        if (b !== "ok") {
          totals.errors += n;
          bump(totals.errorsByCode, b, n);
        }
        break;
      case "l":
        addLatency(totals, a, Number(b), n);
        break;
      case "r":
        bump(totals.rateLimited, a, n);
        break;
      case "x":
        bump(totals.refused, a, n);
        break;
      case "d":
        bump(totals.deliveries, `${a}|${b}`, n);
        break;
      case "e":
        totals.active += n;
        break;
    }
  }
}

function segmentsOf(totals: Totals, tenant: string, channel: string, country: string) {
  return [
    [totals.byChannel, channel],
    [totals.byCountry, country],
    [totals.byTenant, tenant],
  ] as const;
}

function addLatency(totals: Totals, method: string, index: number, n: number): void {
  if (!Number.isInteger(index) || index < 0 || index > latencyBucketBounds.length) return;
  let buckets = totals.latency.get(method);
  if (buckets === undefined) {
    buckets = new Array<number>(latencyBucketBounds.length + 1).fill(0);
    totals.latency.set(method, buckets);
  }
  buckets[index] = (buckets[index] ?? 0) + n;
}

/**
 * The `q` quantile (0 to 1) of a latency histogram, in milliseconds: the
 * upper bound of the bucket that holds it, as Prometheus's
 * histogram_quantile reads the same buckets at their edges. A quantile in
 * the open bucket reads as the last bound; no observation reads as 0.
 */
export function quantileMs(buckets: readonly number[], q: number): number {
  const total = buckets.reduce((a, b) => a + b, 0);
  if (total <= 0) return 0;
  const rank = q * total;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i] ?? 0;
    if (seen >= rank) {
      const bound = latencyBucketBounds[Math.min(i, latencyBucketBounds.length - 1)] as number;
      return bound * 1000;
    }
  }
  return (latencyBucketBounds[latencyBucketBounds.length - 1] as number) * 1000;
}

/** Bucket-wise sum of latency histograms. */
export function mergeHistograms(histograms: readonly (readonly number[])[]): number[] {
  const merged = new Array<number>(latencyBucketBounds.length + 1).fill(0);
  for (const h of histograms)
    for (let i = 0; i < merged.length; i++) merged[i] = (merged[i] ?? 0) + (h[i] ?? 0);
  return merged;
}

/** Verified divided by generated, 0 when nothing was generated. */
export function conversion(generated: number, verified: number): number {
  return generated > 0 ? verified / generated : 0;
}
