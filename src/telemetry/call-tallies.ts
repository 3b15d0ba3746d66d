import { type Attributes, type HrTime, ValueType } from "@opentelemetry/api";
import {
  AggregationTemporality,
  DataPointType,
  type MetricData,
  type ScopeMetrics,
} from "@opentelemetry/sdk-metrics";

/**
 * Counters and a histogram for what every call records, kept as plain
 * numbers in process memory and turned into OpenTelemetry's metric data only
 * when `/metrics` is read. The SDK's own instruments work out a key for the
 * attributes on every recording (their names sorted, then JSON), which cost
 * 0.5 µs for a counter and 1.3 to 1.8 µs for a histogram here; a tally finds
 * its series with two map lookups on the raw values and adds to a number
 * (docs/hot-path.md, "Per-call costs found in a profile at a fixed rate").
 *
 * A series is made the first time a pair of raw values is seen: its
 * attributes are `attributes(a, b)`, which folds anything unexpected into
 * "other" (see metrics.ts). Raw values that fold into the same attributes
 * share one series; past `maxSeries` pairs, raw values are folded on every
 * call and not remembered, so the maps stay bounded whatever callers send.
 */
export interface Tally {
  /** Adds `value` to the series of `a` (and `b`). */
  add(value: number, a: string, b?: string): void;
}

/** The tallies of one instrumentation scope, and their data at this moment. */
export interface CallTallies {
  /** A monotonic counter, named as the SDK would name it (the serializer adds `_total`). */
  counter(name: string, description: string, attributes: Labeller): Tally;
  /** A histogram with `boundaries` (inclusive upper bounds) and an open bucket above the last. */
  histogram(
    name: string,
    description: string,
    unit: string,
    boundaries: readonly number[],
    attributes: Labeller,
  ): Tally;
  /** Every tally's cumulative data, as one scope of a collection. */
  collect(): ScopeMetrics;
}

/** Makes a series' attributes from its raw values. */
export type Labeller = (a: string, b: string) => Attributes;

// Raw value pairs remembered per tally; beyond, values are folded on each call.
const maxSeries = 512;

interface Series {
  attributes: Attributes;
  startTime: HrTime;
  count: number;
  sum: number;
  min: number;
  max: number;
  /** Histograms only: one count per bucket, the open one last. */
  buckets: number[] | undefined;
}

/**
 * Makes the tallies of the scope `scopeName`.
 *
 * @example
 * const tallies = createCallTallies("otp-service");
 * const verified = tallies.counter("otp_verifications", "Verification attempts by result.",
 *   (result) => ({ result }));
 * verified.add(1, "verified");
 * tallies.collect(); // { scope: { name: "otp-service" }, metrics: [ ...a cumulative sum... ] }
 */
export function createCallTallies(scopeName: string): CallTallies {
  const collectors: Array<(now: HrTime) => MetricData> = [];
  const keep = <T extends { tally: Tally; collect: (now: HrTime) => MetricData }>(made: T) => {
    collectors.push(made.collect);
    return made.tally;
  };
  return {
    counter: (name, description, attributes) => keep(counterTally(name, description, attributes)),
    histogram: (name, description, unit, boundaries, attributes) =>
      keep(histogramTally(name, description, unit, boundaries, attributes)),
    collect() {
      const now = hrNow();
      return { scope: { name: scopeName }, metrics: collectors.map((c) => c(now)) };
    },
  };
}

function counterTally(name: string, description: string, attributes: Labeller) {
  const table = seriesTable(attributes, 0);
  const tally: Tally = {
    add(value, a, b = "") {
      if (!countable(value)) return;
      table.find(a, b).sum += value;
    },
  };
  const collect = (now: HrTime): MetricData => ({
    descriptor: { name, description, unit: "", valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.SUM,
    isMonotonic: true,
    dataPoints: table.all().map((s) => ({
      attributes: s.attributes,
      startTime: s.startTime,
      endTime: now,
      value: s.sum,
    })),
  });
  return { tally, collect };
}

function histogramTally(
  name: string,
  description: string,
  unit: string,
  boundaries: readonly number[],
  attributes: Labeller,
) {
  const bounds = [...boundaries];
  const table = seriesTable(attributes, bounds.length + 1);
  const tally: Tally = {
    add(value, a, b = "") {
      if (!countable(value)) return;
      const s = table.find(a, b);
      let i = 0;
      while (i < bounds.length && value > (bounds[i] as number)) i++;
      const buckets = s.buckets as number[];
      buckets[i] = (buckets[i] as number) + 1;
      s.count++;
      s.sum += value;
      if (value < s.min) s.min = value;
      if (value > s.max) s.max = value;
    },
  };
  const collect = (now: HrTime): MetricData => ({
    descriptor: { name, description, unit, valueType: ValueType.DOUBLE },
    aggregationTemporality: AggregationTemporality.CUMULATIVE,
    dataPointType: DataPointType.HISTOGRAM,
    dataPoints: table.all().map((s) => ({
      attributes: s.attributes,
      startTime: s.startTime,
      endTime: now,
      value: {
        buckets: { boundaries: bounds, counts: [...(s.buckets ?? [])] },
        sum: s.sum,
        count: s.count,
        ...(s.count > 0 ? { min: s.min, max: s.max } : {}),
      },
    })),
  });
  return { tally, collect };
}

/**
 * The series of one tally, found by raw values; raw values whose attributes
 * agree share a series. At most `maxSeries` raw pairs are remembered.
 */
function seriesTable(attributes: Labeller, bucketCount: number) {
  const byRaw = new Map<string, Map<string, Series>>();
  const byLabels = new Map<string, Series>();
  let remembered = 0;
  const make = (a: string, b: string): Series => {
    const labels = attributes(a, b);
    const key = JSON.stringify(labels);
    let series = byLabels.get(key);
    if (series === undefined) {
      series = {
        attributes: labels,
        startTime: hrNow(),
        count: 0,
        sum: 0,
        min: Number.POSITIVE_INFINITY,
        max: Number.NEGATIVE_INFINITY,
        buckets: bucketCount > 0 ? new Array<number>(bucketCount).fill(0) : undefined,
      };
      byLabels.set(key, series);
    }
    return series;
  };
  const find = (a: string, b: string): Series => {
    let inner = byRaw.get(a);
    const hit = inner?.get(b);
    if (hit !== undefined) return hit;
    const series = make(a, b);
    if (remembered < maxSeries) {
      if (inner === undefined) {
        inner = new Map();
        byRaw.set(a, inner);
      }
      inner.set(b, series);
      remembered++;
    }
    return series;
  };
  return { find, all: () => [...byLabels.values()] };
}

// A count or a latency: finite and not negative (false for NaN).
const countable = (value: number) => value >= 0 && value < Number.POSITIVE_INFINITY;

function hrNow(): HrTime {
  const ms = Date.now();
  return [Math.floor(ms / 1000), (ms % 1000) * 1e6];
}
