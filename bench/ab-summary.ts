/** One round of an A/B: CPU milliseconds per call of each build, measured back to back. */
export interface AbRound {
  a: number;
  b: number;
}

/** What an A/B of one RPC over one protocol shows. */
export interface AbSummary {
  /** Median CPU ms per call of each build over the rounds. */
  aMedian: number;
  bMedian: number;
  /** B ÷ A per round, in round order. */
  ratios: number[];
  /** The median of the rounds' ratios: the figure to quote (0.80 is 20 % less CPU per call for B). */
  medianRatio: number;
}

/** The median of numbers; NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Sums up the rounds of an A/B. Each round's ratio compares two windows
 * seconds apart, so the machine's drift touches both builds alike; the median
 * of the ratios is steadier than the ratio of two long runs.
 *
 * @example
 * summarizeAb([{ a: 0.2, b: 0.16 }, { a: 0.21, b: 0.17 }]).medianRatio; // about 0.81
 */
export function summarizeAb(rounds: readonly AbRound[]): AbSummary {
  const ratios = rounds.map((r) => r.b / r.a);
  return {
    aMedian: median(rounds.map((r) => r.a)),
    bMedian: median(rounds.map((r) => r.b)),
    ratios,
    medianRatio: median(ratios),
  };
}

/**
 * Which build goes first in each round: A first in even rounds, B first in
 * odd ones, so that neither always gets the warmer (or the noisier) slot.
 */
export function roundOrder(round: number): ["a", "b"] | ["b", "a"] {
  return round % 2 === 0 ? ["a", "b"] : ["b", "a"];
}

/**
 * A tree's production command line with its paths made absolute, so the
 * service starts the same from any working directory: `./dist/x` and
 * `dist/x` become `<tree>/dist/x`; flags stay as they are.
 *
 * @example
 * treeCommand(["--import", "./dist/a.mjs", "dist/src/main.js"], "/tmp/base");
 * // ["--import", "/tmp/base/dist/a.mjs", "/tmp/base/dist/src/main.js"]
 */
export function treeCommand(args: readonly string[], tree: string): string[] {
  return args.map((arg) =>
    arg.startsWith("./") || arg.startsWith("dist/") ? `${tree}/${arg.replace(/^\.\//, "")}` : arg,
  );
}
