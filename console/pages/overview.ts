// Overview: live figures and time series, from GetOverview and GetTimeSeries
// (added by another part of the contract). Hidden until GetOverview exists.
// The lead may replace the generic reading below with the generated types.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { callByName, describeError, hasMethods, isSignedOut } from "../api.js";
import { createTimeSeriesChart, type TimeSeriesChart } from "../chart.js";
import { formatCount, h, replace } from "../dom.js";
import { firstList, isObject, labelOf, numbersOf, renderJson, timeOf } from "../json-view.js";
import type { ConsolePage, PageContext } from "../page.js";

// The windows and metrics of GetOverview and GetTimeSeries (ActivityWindow, ActivityMetric).
const windows = [
  { id: "ACTIVITY_WINDOW_HOUR", label: "Last hour" },
  { id: "ACTIVITY_WINDOW_DAY", label: "Last day" },
  { id: "ACTIVITY_WINDOW_MONTH", label: "Last 30 days" },
];
const metrics = [
  { id: "ACTIVITY_METRIC_GENERATED", label: "Generated" },
  { id: "ACTIVITY_METRIC_VERIFIED", label: "Verified" },
  { id: "ACTIVITY_METRIC_RATE_LIMITED", label: "Rate-limited" },
  { id: "ACTIVITY_METRIC_ERRORS", label: "Errors" },
];

/** The overview page. */
export const overviewPage: ConsolePage = {
  id: "overview",
  title: "Overview",
  available: () => hasMethods("getOverview"),
  render(root, ctx) {
    const windowSelect = h(
      "select",
      { id: "window" },
      ...windows.map((w) => h("option", { value: w.id }, w.label)),
    );
    const tiles = h("div", { class: "tiles", "data-testid": "overview" });
    const detail = h("div", { class: "panel" });
    const charts = h("div", { class: "panel", "data-testid": "time-series" });
    replace(
      root,
      h("div", { class: "panel-head" }, h("h1", {}, "Overview"), windowSelect),
      tiles,
      charts,
      detail,
    );
    const refresh = async () => {
      try {
        const overview = await callByName("getOverview", { window: windowSelect.value });
        drawOverview(tiles, detail, overview);
      } catch (err) {
        if (isSignedOut(err)) ctx.signedOut();
        else ctx.notify(`Could not read the overview: ${describeError(err)}`, "error");
      }
    };
    void refresh();
    const timer = setInterval(refresh, 2000);
    const stopCharts = hasMethods("getTimeSeries")
      ? drawTimeSeries(charts, windowSelect, ctx)
      : () => {};
    windowSelect.addEventListener("change", () => void refresh());
    return () => {
      clearInterval(timer);
      stopCharts();
    };
  },
};

// A share from 0 to 1, shown as a percentage: the conversion, error rate and the like.
const isShare = (name: string) => name === "conversion" || /(Rate|Ratio)$/.test(name);

// Scalars as tiles (a conversion figure marked for tests), nested figures as tables.
function drawOverview(tiles: HTMLElement, detail: HTMLElement, overview: JsonValue): void {
  if (!isObject(overview)) return;
  const scalars = numbersOf(overview);
  replace(
    tiles,
    ...scalars.map(([name, value]) =>
      h(
        "div",
        { class: "tile", "data-testid": name === "conversion" ? "conversion" : `tile-${name}` },
        h(
          "div",
          { class: "tile-value" },
          isShare(name) ? `${(value * 100).toFixed(1)} %` : formatCount(value),
        ),
        h("div", { class: "tile-label" }, labelOf(name)),
      ),
    ),
  );
  const nested: JsonObject = {};
  for (const [name, value] of Object.entries(overview))
    if (isObject(value) || Array.isArray(value)) nested[name] = value;
  replace(detail, renderJson(nested));
}

// One GetTimeSeries call per metric, drawn as one chart over the window chosen.
function drawTimeSeries(
  box: HTMLElement,
  windowSelect: HTMLSelectElement,
  ctx: PageContext,
): () => void {
  const area = h("div", { class: "chart" });
  replace(box, h("h3", {}, "Over time"), area);
  const chart: TimeSeriesChart = createTimeSeriesChart(
    area,
    metrics.map((m) => ({ label: m.label })),
  );
  const load = async () => {
    try {
      const series = await Promise.all(
        metrics.map(async (m) => {
          const points = firstList(
            await callByName("getTimeSeries", { metric: m.id, window: windowSelect.value }),
          );
          return new Map(
            points.map((p) => [timeOf(p) ?? 0, new Map(numbersOf(p)).get("value") ?? 0]),
          );
        }),
      );
      const times = [...new Set(series.flatMap((s) => [...s.keys()]))].sort((a, b) => a - b);
      chart.update({
        timesMs: times,
        values: series.map((s) => times.map((t) => s.get(t) ?? null)),
      });
    } catch (err) {
      if (isSignedOut(err)) ctx.signedOut();
      else ctx.notify(`Could not read the time series: ${describeError(err)}`, "error");
    }
  };
  windowSelect.addEventListener("change", () => void load());
  void load();
  const timer = setInterval(load, 5_000);
  return () => {
    clearInterval(timer);
    chart.destroy();
  };
}
