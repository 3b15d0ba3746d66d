// A tenant's usage: today's consumption of each quota (a warning at 80 %,
// an alert at 100 %), the daily counters of the last 30 days as a chart, and
// the last week as a table.
import type { GetUsageResponse, Quota } from "../../gen/otp/v1/admin_pb.js";
import { admin, describeError, isSignedOut } from "../api.js";
import { createTimeSeriesChart, type TimeSeriesChart } from "../chart.js";
import { formatCount, h, replace } from "../dom.js";
import type { PageContext } from "../page.js";

/** How far a quota is used: below 80 %, from 80 %, or at or past 100 %. */
export type QuotaLevel = "ok" | "warn" | "over";

/** The level of a quota used `used` times out of `limit`. */
export function quotaLevel(used: number, limit: number): QuotaLevel {
  if (limit <= 0) return "ok";
  const share = used / limit;
  return share >= 1 ? "over" : share >= 0.8 ? "warn" : "ok";
}

const charted = [
  { label: "Generate", counters: ["rpc:Generate"] },
  { label: "Verify", counters: ["rpc:Verify"] },
  { label: "Messages sent", prefix: "sends:" },
];

const sumOf = (counters: Record<string, bigint>, names: readonly string[]) =>
  names.reduce((n, name) => n + Number(counters[name] ?? 0n), 0);

/** Draws the usage of `tenantId` into `root`; returns what removes its chart. */
export function renderUsage(root: HTMLElement, tenantId: string, ctx: PageContext): () => void {
  const meters = h("div", { class: "meters", "data-testid": "quotas" });
  const chartBox = h("div", { class: "chart", "data-testid": "usage-chart" });
  const table = h("div", { "data-testid": "usage-table" });
  const refresh = h("button", { type: "button", class: "secondary small" }, "Refresh");
  replace(
    root,
    h("div", { class: "panel-head" }, h("h3", {}, "Usage"), refresh),
    meters,
    chartBox,
    table,
  );
  let chart: TimeSeriesChart | undefined;
  const load = async () => {
    try {
      const usage = await admin.getUsage({ tenantId, days: 30 });
      replace(meters, ...quotaMeters(usage));
      chart ??= createTimeSeriesChart(
        chartBox,
        charted.map((c) => ({ label: c.label })),
        { height: 200 },
      );
      chart.update(dailySeries(usage));
      replace(table, usageTable(usage));
      root.dataset.loaded = String(Date.now());
    } catch (err) {
      if (isSignedOut(err)) ctx.signedOut();
      else ctx.notify(`Could not read usage: ${describeError(err)}`, "error");
    }
  };
  refresh.addEventListener("click", () => void load());
  void load();
  return () => chart?.destroy();
}

function quotaMeters(usage: GetUsageResponse): HTMLElement[] {
  const today = usage.days[0]?.counters ?? {};
  if (usage.quotas.length === 0)
    return [h("p", { class: "muted" }, "No quotas apply to this tenant.")];
  return usage.quotas.map((quota: Quota) => {
    const used = sumOf(today, quota.counters);
    const limit = Number(quota.dailyLimit);
    const level = quotaLevel(used, limit);
    const percent = limit > 0 ? Math.min(100, Math.floor((used / limit) * 100)) : 0;
    const note =
      level === "over"
        ? "Quota reached: further calls are refused"
        : level === "warn"
          ? "Over 80 % of the quota"
          : "";
    return h(
      "div",
      { class: `meter ${level}`, "data-testid": `quota-${quota.name}`, "data-level": level },
      h(
        "div",
        { class: "meter-head" },
        h("strong", {}, quota.name),
        h("span", {}, `${formatCount(used)} of ${formatCount(limit)} today (${percent} %)`),
      ),
      h("div", { class: "bar" }, fillOf(percent)),
      h(
        "div",
        { class: "meter-foot muted" },
        `${formatCount(quota.limit)} per ${formatWindow(Number(quota.windowSeconds))}`,
        note === "" ? null : h("span", { class: "meter-note" }, note),
      ),
    );
  });
}

// Through the CSSOM: the page's CSP refuses style attributes.
function fillOf(percent: number): HTMLElement {
  const fill = h("div", { class: "fill" });
  fill.style.width = `${percent}%`;
  return fill;
}

function formatWindow(seconds: number): string {
  if (seconds % 3600 === 0) return seconds === 3600 ? "hour" : `${seconds / 3600} h`;
  if (seconds % 60 === 0) return seconds === 60 ? "minute" : `${seconds / 60} min`;
  return `${seconds} s`;
}

function dailySeries(usage: GetUsageResponse) {
  const days = [...usage.days].reverse();
  return {
    timesMs: days.map((d) => Date.parse(`${d.date}T00:00:00Z`)),
    values: charted.map((c) =>
      days.map((d) =>
        "prefix" in c
          ? Object.entries(d.counters).reduce(
              (n, [k, v]) => (k.startsWith(c.prefix ?? "") ? n + Number(v) : n),
              0,
            )
          : sumOf(d.counters, c.counters ?? []),
      ),
    ),
  };
}

function usageTable(usage: GetUsageResponse): HTMLElement {
  const week = usage.days.slice(0, 7);
  const names = [...new Set(week.flatMap((d) => Object.keys(d.counters)))].sort();
  if (names.length === 0) return h("p", { class: "muted" }, "No calls in the last 7 days.");
  return h(
    "table",
    { class: "table compact" },
    h("thead", {}, h("tr", {}, h("th", {}, "Day"), ...names.map((n) => h("th", {}, n)))),
    h(
      "tbody",
      {},
      ...week.map((d) =>
        h(
          "tr",
          {},
          h("td", {}, d.date),
          ...names.map((n) => h("td", { class: "num" }, formatCount(d.counters[n] ?? 0n))),
        ),
      ),
    ),
  );
}
