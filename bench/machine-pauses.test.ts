import { describe, expect, it } from "vitest";
import { pausesLine, summarizePauses } from "./machine-pauses.js";

describe("summarizePauses", () => {
  it("counts the long pauses, the longest, and the time lost per thread and second", () => {
    const summary = summarizePauses(
      [
        [
          { ms: 6.5, runQueueMs: 6.1 },
          { ms: 1.5, runQueueMs: 0 },
        ],
        [{ ms: 3, runQueueMs: 0.2 }],
      ],
      5,
    );
    expect(summary.threads).toBe(2);
    expect(summary.over2Ms).toBe(2);
    expect(summary.longestMs).toBe(6.5);
    expect(summary.lostMsPerSecond).toBeCloseTo(11 / 2 / 5);
    expect(summary.runQueueShare).toBeCloseTo(6.3 / 11);
  });

  it("never counts more run-queue wait than the pause it was read after", () => {
    expect(summarizePauses([[{ ms: 2, runQueueMs: 9 }]], 1).runQueueShare).toBe(1);
  });

  it("reports a machine that took nothing as such", () => {
    expect(summarizePauses([[], []], 5)).toEqual({
      seconds: 5,
      threads: 2,
      over2Ms: 0,
      longestMs: 0,
      lostMsPerSecond: 0,
      runQueueShare: 0,
    });
  });
});

describe("pausesLine", () => {
  it("says in the report's header what the machine took, and how", () => {
    const line = pausesLine(
      summarizePauses([[{ ms: 6.5, runQueueMs: 6.5 }], [{ ms: 3.5, runQueueMs: 0 }]], 5),
    );
    expect(line).toContain("2 busy threads (one per core) lost 1.0 ms a second each in 5 s");
    expect(line).toContain(
      "2 pauses over 2 ms, the longest 6.5 ms; 65 % of it waiting behind other tasks",
    );
  });
});
