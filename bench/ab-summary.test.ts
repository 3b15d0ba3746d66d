import { describe, expect, it } from "vitest";
import { median, roundOrder, summarizeAb, treeCommand } from "./ab-summary.js";

describe("A/B summary", () => {
  it("quotes the median of the rounds' ratios, which one noisy round does not move", () => {
    const summary = summarizeAb([
      { a: 0.2, b: 0.16 },
      { a: 0.2, b: 0.17 },
      // A burst of other work on the machine during B's window only.
      { a: 0.2, b: 0.4 },
      { a: 0.22, b: 0.176 },
      { a: 0.2, b: 0.16 },
    ]);
    expect(summary.medianRatio).toBeCloseTo(0.8, 5);
    expect(summary.ratios).toHaveLength(5);
    expect(summary.aMedian).toBeCloseTo(0.2, 5);
    expect(summary.bMedian).toBeCloseTo(0.17, 5);
  });

  it("takes the middle two's mean for an even count, and NaN for none", () => {
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it("alternates which build goes first", () => {
    expect([0, 1, 2, 3].map(roundOrder)).toEqual([
      ["a", "b"],
      ["b", "a"],
      ["a", "b"],
      ["b", "a"],
    ]);
  });

  it("makes a tree's paths absolute and leaves flags alone", () => {
    expect(
      treeCommand(
        ["--max-semi-space-size=8", "--import", "./dist/t.mjs", "dist/src/main.js"],
        "/tmp/base",
      ),
    ).toEqual([
      "--max-semi-space-size=8",
      "--import",
      "/tmp/base/dist/t.mjs",
      "/tmp/base/dist/src/main.js",
    ]);
  });
});
