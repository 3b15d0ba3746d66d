// Overview: live figures and time series, from GetOverview and GetTimeSeries
// (added by another part of the contract). Hidden until GetOverview exists.
// The lead may replace the generic reading below with the generated types.
import type { JsonObject, JsonValue } from "@bufbuild/protobuf";
import { callByName, describeError, hasMethods, isSignedOut } from "../api.js";
import { createTimeSeriesChart, type TimeSeriesChart } from "../chart.js";
import { formatCount, h, replace } from "../dom.js";
import { firstList, isObject, labelOf, numbersOf, renderJson, timeOf } from "../json-view.js";
import type { ConsolePage, PageContext } from "../page.js";

const periods = [
  { id: "hour", label: "Last hour" },
  { id: "day", label: "Last day" },
  { id: "month", label: "Last 30 days" },
];

/** The overview page. */
export const overviewPage: ConsolePage = {
  id: "overview",
  title: "Overview",
  available: () => hasMethods("getOverview"),
  render(root, ctx) {
    const tiles = h("div", { class: "tiles", "data-testid": "overview" });
    const detail = h("div", { class: "panel" });
    const charts = h("div", { class: "panel", "data-testid": "time-series" });
    replace(root, h("h1", {}, "Overview"), tiles, charts, detail);
    const refresh = async () => {
      try {
        const overview = await callByName("getOverview", {});
        drawOverview(tiles, detail, overview);
      } catch (err) {
        if (isSignedOut(err)) ctx.signedOut();
        else ctx.notify(`Could not read the overview: ${describeError(err)}`, "error");
      }
    };
    void refresh();
    const timer = setInterval(refresh, 2000);
    const stopCharts = hasMethods("getTimeSeries") ? drawTimeSeries(charts, ctx) : () => {};
    return () => {
      clearInterval(timer);
      stopCharts();
    };
  },
};

// Scalars as tiles (a conversion figure marked for tests), nested figures as tables.
function drawOverview(tiles: HTMLElement, detail: HTMLElement, overview: JsonValue): void {
  if (!isObject(overview)) return;
  const scalars = numbersOf(overview);
  replace(
    tiles,
    ...scalars.map(([name, value]) =>
      h(
        "div",
        { class: "tile", "data-testid": /conversion/i.test(name) ? "conversion" : `tile-${name}` },
        h(
          "div",
          { class: "tile-value" },
          /conversion|rate|ratio/i.test(name)
            ? `${(value * 100).toFixed(1)} %`
            : formatCount(value),
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

function drawTimeSeries(box: HTMLElement, ctx: PageContext): () => void {
  const select = h(
    "select",
    { id: "period" },
    ...periods.map((p) => h("option", { value: p.id }, p.label)),
  );
  const area = h("div", { class: "chart" });
  replace(box, h("div", { class: "panel-head" }, h("h3", {}, "Over time"), select), area);
  let chart: TimeSeriesChart | undefined;
  let names: string[] = [];
  const load = async () => {
    try {
      const points = firstList(await callByName("getTimeSeries", { period: select.value }));
      const rows = points.map((p) => ({ at: timeOf(p) ?? 0, values: new Map(numbersOf(p)) }));
      const seen = [...new Set(rows.flatMap((r) => [...r.values.keys()]))];
      if (chart === undefined || seen.join() !== names.join()) {
        chart?.destroy();
        area.replaceChildren();
        names = seen;
        chart = createTimeSeriesChart(
          area,
          names.map((n) => ({ label: labelOf(n) })),
        );
      }
      chart.update({
        timesMs: rows.map((r) => r.at),
        values: names.map((n) => rows.map((r) => r.values.get(n) ?? null)),
      });
    } catch (err) {
      if (isSignedOut(err)) ctx.signedOut();
      else ctx.notify(`Could not read the time series: ${describeError(err)}`, "error");
    }
  };
  select.addEventListener("change", () => void load());
  void load();
  const timer = setInterval(load, 10_000);
  return () => {
    clearInterval(timer);
    chart?.destroy();
  };
}
