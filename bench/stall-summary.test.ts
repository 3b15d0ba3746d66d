import { describe, expect, it } from "vitest";
import { stallLine, summarizeStalls } from "./stall-summary.mjs";

describe("summarizeStalls", () => {
  it("splits stalls into waiting for a core, GC pauses and the rest", () => {
    const summary = summarizeStalls(
      [
        { atMs: 100, lateMs: 10, waitMs: 8 },
        { atMs: 200, lateMs: 6, waitMs: 0 },
      ],
      [
        { atMs: 201, ms: 4 }, // inside the second stall
        { atMs: 500, ms: 3 }, // inside none
      ],
    );
    expect(summary).toEqual({ count: 2, totalMs: 16, waitMs: 8, gcMs: 4, longestMs: 10 });
    expect(stallLine(summary, 5)).toBe(
      "stall-probe: 2 stalls over 5 ms, 16 ms in all, the longest 10.0 ms; 50 % of it waiting for a core, 25 % in GC pauses, the rest running",
    );
  });

  it("never counts more wait and GC together than the stall lasted", () => {
    const summary = summarizeStalls([{ atMs: 0, lateMs: 5, waitMs: 9 }], [{ atMs: 0, ms: 20 }]);
    expect(summary.waitMs).toBe(5);
    expect(summary.gcMs).toBe(0);
  });

  it("reads an empty window as nothing", () => {
    expect(stallLine(summarizeStalls([], []), 5)).toBe(
      "stall-probe: 0 stalls over 5 ms, 0 ms in all, the longest 0.0 ms; 0 % of it waiting for a core, 0 % in GC pauses, the rest running",
    );
  });
});
