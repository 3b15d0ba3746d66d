// The arithmetic of bench/stall-probe.mjs, apart so that it can be tested
// without starting the probe.

/** How often the probe's timer is asked to fire, in ms. */
export const tickMs = 2;

/**
 * Sums stalls: how many, their time, the part spent waiting for a core, the
 * part inside GC pauses (clipped to the stall, and not counted twice with the
 * waiting: a pause the thread waited through is waiting), the longest.
 *
 * @param {Array<{ atMs: number, lateMs: number, waitMs: number }>} stalls
 * @param {Array<{ atMs: number, ms: number }>} gcs
 */
export function summarizeStalls(stalls, gcs) {
  let totalMs = 0;
  let waitMs = 0;
  let gcMs = 0;
  let longestMs = 0;
  for (const s of stalls) {
    totalMs += s.lateMs;
    waitMs += Math.min(s.waitMs, s.lateMs);
    longestMs = Math.max(longestMs, s.lateMs);
    const end = s.atMs + s.lateMs + tickMs;
    for (const g of gcs) {
      const overlap = Math.min(end, g.atMs + g.ms) - Math.max(s.atMs, g.atMs);
      if (overlap > 0) gcMs += overlap;
    }
  }
  return {
    count: stalls.length,
    totalMs,
    waitMs,
    gcMs: Math.min(gcMs, totalMs - waitMs),
    longestMs,
  };
}

/** The summary as one line. */
export function stallLine(summary, thresholdMs) {
  const share = (ms) => (summary.totalMs > 0 ? Math.round((100 * ms) / summary.totalMs) : 0);
  return (
    `stall-probe: ${summary.count} stalls over ${thresholdMs} ms, ${summary.totalMs.toFixed(0)} ms in all, ` +
    `the longest ${summary.longestMs.toFixed(1)} ms; ${share(summary.waitMs)} % of it waiting for a core, ` +
    `${share(summary.gcMs)} % in GC pauses, the rest running`
  );
}
