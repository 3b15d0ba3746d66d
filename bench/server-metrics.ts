/** One sample line of the service's Prometheus text. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The service's counters at one moment. */
export type Snapshot = Sample[];

/**
 * Reads `GET /metrics`. Returns undefined when the service has no metrics
 * endpoint; the bench then says that server-side counts are unknown.
 */
export async function scrapeMetrics(baseUrl: string): Promise<Snapshot | undefined> {
  try {
    const res = await fetch(`${baseUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return undefined;
    return parseSamples(await res.text());
  } catch {
    return undefined;
  }
}

/** Prometheus text as samples (comments and blank lines skipped). */
export function parseSamples(text: string): Snapshot {
  const samples: Snapshot = [];
  for (const line of text.split("\n")) {
    const found = /^([A-Za-z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (found === null) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (found[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
      if (key !== undefined && value !== undefined) labels[key] = value;
    }
    samples.push({ name: found[1] ?? "", labels, value: Number(found[3]) });
  }
  return samples;
}

/**
 * How much counter `name` grew between two snapshots, among the samples whose
 * labels include `where`, grouped by the value of label `by`. Groups that did
 * not grow are left out.
 *
 * @example
 * growth(before, after, "otp_rpc_duration_seconds_count", { method: "otp.v1.OtpService/Verify" }, "code");
 * // { ok: 24120 }
 */
export function growth(
  before: Snapshot,
  after: Snapshot,
  name: string,
  where: Record<string, string>,
  by: string,
): Record<string, number> {
  const matches = (s: Sample) =>
    s.name === name && Object.entries(where).every(([k, v]) => s.labels[k] === v);
  const key = (s: Sample) => JSON.stringify(Object.entries(s.labels).sort());
  const earlier = new Map(before.filter(matches).map((s) => [key(s), s.value]));
  const out: Record<string, number> = {};
  for (const sample of after.filter(matches)) {
    const grew = sample.value - (earlier.get(key(sample)) ?? 0);
    const group = sample.labels[by] ?? "";
    if (grew > 0) out[group] = (out[group] ?? 0) + grew;
  }
  return out;
}

/**
 * The share of `method`'s calls between two snapshots that the service
 * answered within `seconds` by its own clock (`otp_rpc_duration_seconds`,
 * from the interceptors' entry to the answer; `seconds` must be one of its
 * bucket bounds). Undefined when no call was counted.
 *
 * @example
 * shareWithin(before, after, "otp.v1.OtpService/Generate", 0.01); // 0.996
 */
export function shareWithin(
  before: Snapshot,
  after: Snapshot,
  method: string,
  seconds: number,
): number | undefined {
  const sum = (byCode: Record<string, number>) => Object.values(byCode).reduce((a, b) => a + b, 0);
  const all = sum(growth(before, after, "otp_rpc_duration_seconds_count", { method }, "code"));
  const within = sum(
    growth(
      before,
      after,
      "otp_rpc_duration_seconds_bucket",
      { method, le: String(seconds) },
      "code",
    ),
  );
  return all > 0 ? within / all : undefined;
}

/**
 * The service's garbage collection between two snapshots, from the runtime
 * metrics' `v8js_gc_duration` histogram: how many full (major) collections
 * ran, and the milliseconds of GC of every kind per 1,000 of `calls`.
 * Undefined when the service exports no GC metric.
 *
 * @example
 * gcDuring(before, after, 12_000); // { majorGcs: 3, gcMsPerThousand: 8.4 }
 */
export function gcDuring(
  before: Snapshot,
  after: Snapshot,
  calls: number,
): { majorGcs: number; gcMsPerThousand: number } | undefined {
  if (!after.some((s) => s.name === "v8js_gc_duration_count")) return undefined;
  const total = (byType: Record<string, number>) =>
    Object.values(byType).reduce((a, b) => a + b, 0);
  const majorGcs = total(
    growth(before, after, "v8js_gc_duration_count", { v8js_gc_type: "major" }, "v8js_gc_type"),
  );
  const seconds = total(growth(before, after, "v8js_gc_duration_sum", {}, "v8js_gc_type"));
  return { majorGcs, gcMsPerThousand: calls > 0 ? (seconds * 1000 * 1000) / calls : 0 };
}
