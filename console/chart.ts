// Time-series charts, drawn with uPlot (bundled from npm with the page, no
// CDN). One chart is a set of named series over shared times; `update`
// replaces the data, so a live page can redraw it as new buckets arrive.
import uPlot from "uplot";

/** One line of a chart. */
export interface SeriesSpec {
  label: string;
  /** A CSS colour; the palette's next one when omitted. */
  color?: string;
}

/** A chart's data: times in milliseconds, and one value per time for each series. */
export interface SeriesData {
  timesMs: number[];
  values: (number | null)[][];
}

/** A drawn chart. */
export interface TimeSeriesChart {
  update(data: SeriesData): void;
  destroy(): void;
}

const palette = ["#4f46e5", "#059669", "#d97706", "#dc2626", "#0891b2", "#7c3aed"];

/**
 * Draws a time-series chart into `container`, as wide as the container.
 *
 * @example
 * const chart = createTimeSeriesChart(el, [{ label: "Generated" }, { label: "Verified" }]);
 * chart.update({ timesMs: [t0, t1], values: [[3, 5], [2, 4]] });
 */
export function createTimeSeriesChart(
  container: HTMLElement,
  series: SeriesSpec[],
  options: { height?: number; title?: string } = {},
): TimeSeriesChart {
  const width = () => Math.max(320, container.clientWidth || 640);
  const plot = new uPlot(
    {
      width: width(),
      height: options.height ?? 220,
      ...(options.title === undefined ? {} : { title: options.title }),
      scales: { x: { time: true } },
      axes: [{}, { size: 56 }],
      series: [
        {},
        ...series.map((s, i) => ({
          label: s.label,
          stroke: s.color ?? palette[i % palette.length],
          width: 2,
          points: { show: true, size: 4 },
        })),
      ],
    },
    [[], ...series.map(() => [])],
    container,
  );
  const resize = () => plot.setSize({ width: width(), height: options.height ?? 220 });
  window.addEventListener("resize", resize);
  return {
    update(data) {
      // uPlot's time scale counts seconds.
      plot.setData([data.timesMs.map((ms) => ms / 1000), ...data.values]);
    },
    destroy() {
      window.removeEventListener("resize", resize);
      plot.destroy();
    },
  };
}
