const dayMs = 86_400_000;

/** Usage days are kept 40 days, in Redis and in memory alike. */
export const usageRetentionMs = 40 * dayMs;

// The last UTC day asked for: formatted once a day, not once a call.
let lastDay = { start: 0, end: 0, date: "" };

/**
 * The UTC day of `atMs` as `YYYY-MM-DD`, the day usage counters are kept
 * under. Every Generate and Verify asks it, so the date is remembered for
 * its day rather than formatted each time.
 *
 * @example
 * utcDay(Date.UTC(2026, 10, 30, 23, 59)); // "2026-11-30"
 */
export function utcDay(atMs: number): string {
  if (atMs < lastDay.start || atMs >= lastDay.end) {
    const start = atMs - (((atMs % dayMs) + dayMs) % dayMs);
    lastDay = { start, end: start + dayMs, date: new Date(start).toISOString().slice(0, 10) };
  }
  return lastDay.date;
}
