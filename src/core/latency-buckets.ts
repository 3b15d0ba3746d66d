/**
 * The upper bounds, in seconds, of the latency histogram buckets: from a
 * cache hit to a slow provider call. `/metrics` (telemetry/metrics.ts) and
 * the console's activity counters (activity/) share them, so percentiles
 * read from either agree. A value above the last bound falls in a final
 * open bucket.
 *
 * @example
 * latencyBucketIndex(0.004); // 1 (the 0.005 s bucket)
 */
export const latencyBucketBounds: readonly number[] = [
  0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/**
 * The index of the bucket holding `seconds`: the first bound at or above it,
 * or `latencyBucketBounds.length` for the open bucket above the last.
 *
 * @example
 * latencyBucketIndex(11); // 12
 */
export function latencyBucketIndex(seconds: number): number {
  const bounds = latencyBucketBounds;
  for (let i = 0; i < bounds.length; i++) if (seconds <= (bounds[i] as number)) return i;
  return bounds.length;
}
