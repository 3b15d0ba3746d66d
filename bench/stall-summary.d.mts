// Types of stall-summary.mjs (plain JavaScript, so that the probe preloads without a loader).

export interface Stall {
  /** When the late tick was due to start waiting, in ms of performance.now(). */
  atMs: number;
  /** How much later than asked the tick came. */
  lateMs: number;
  /** How long the main thread waited for a core meanwhile. */
  waitMs: number;
}

export interface GcPause {
  atMs: number;
  ms: number;
}

export interface StallSummary {
  count: number;
  totalMs: number;
  waitMs: number;
  gcMs: number;
  longestMs: number;
}

export declare const tickMs: number;
export declare function summarizeStalls(stalls: Stall[], gcs: GcPause[]): StallSummary;
export declare function stallLine(summary: StallSummary, thresholdMs: number): string;
