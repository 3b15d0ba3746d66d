import { mkdir, writeFile } from "node:fs/promises";
import type { BenchConfig } from "./configs.js";
import { type MachinePauses, pausesLine } from "./machine-pauses.js";
import type { ConfigResult, ResultRow, Timing } from "./suite.js";

/** Everything one run measured, as written to bench/results/latest.json. */
export interface BenchReport {
  date: string;
  quick: boolean;
  machine: {
    nproc: number;
    cpu: string;
    node: string;
    os: string;
    /** 1-minute load averages: other work on the box skews calls/s, CPU per call much less. */
    loadAverageAtStart: number;
    loadAverageAtEnd: number;
    /** What busy threads, one per core, lost to the machine before the run; absent when not measured. */
    pauses?: MachinePauses;
  };
  timing: Timing;
  drivers: { protocol: string; description: string }[];
  configs: (Pick<BenchConfig, "name" | "label" | "store" | "production"> & {
    env: Record<string, string>;
  })[];
  rows: ResultRow[];
  results: ConfigResult[];
  notes: string[];
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const fixed = (n: number | null | undefined, digits: number) =>
  n === null || n === undefined || !Number.isFinite(n) ? "–" : n.toFixed(digits);
const percent = (n: number | undefined) => (n === undefined ? "–" : `${(n * 100).toFixed(1)} %`);
const times = (n: number | null | undefined) => (n == null ? "–" : `${n.toFixed(2)}×`);
const mb = (bytes: number) => `${Math.round(bytes / 1024 / 1024)}`;

/** `["node", "node", "esbuild"]` as `2 node + esbuild`. */
function processList(names: string[]): string {
  const counts = new Map<string, number>();
  for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, k]) => (k === 1 ? n : `${k} ${n}`)).join(" + ");
}

/** Looks up a configuration's label. */
function labelOf(report: BenchReport, name: string): string {
  return report.configs.find((c) => c.name === name)?.label ?? name;
}

/** The round trips of single calls of `rpc` in configuration `name`, as a table cell. */
function roundTrips(report: BenchReport, name: string, rpc: string): string {
  const single = report.results.find((r) => r.name === name)?.singleCalls;
  if (single === undefined) return "–";
  const key = Object.keys(single).find(
    (k) => k === rpc || k.startsWith(`${rpc} (wrong code, exhausted`),
  );
  const s = key === undefined ? undefined : single[key];
  return s === undefined ? "–" : String(s.roundTrips);
}

/**
 * The headline table, the one README.md carries: one line per configuration
 * and RPC; Connect JSON calls/s, CPU per call and the p99 at half rate, gRPC
 * CPU per call, each CPU figure also as a multiple of the bare server's on
 * the same protocol, and the store round trips of a single call.
 */
export function renderHeadline(report: BenchReport): string[] {
  const find = (config: string, rpc: string, protocol: string) =>
    report.rows.find((r) => r.config === config && r.rpc === rpc && r.protocol === protocol);
  const keys = [...new Set(report.rows.map((r) => `${r.config}\u0000${r.rpc}`))];
  return table(
    [
      "configuration",
      "RPC",
      "JSON calls/s",
      "JSON CPU ms/call",
      "JSON CPU × bare",
      "JSON p99 ms at ½ rate",
      "floor p99 ms, same rate",
      "gRPC CPU ms/call",
      "gRPC CPU × bare",
      "round trips",
    ],
    ["left", "left", "right", "right", "right", "right", "right", "right", "right", "right"],
    keys.map((key) => {
      const [config = "", rpc = ""] = key.split("\u0000");
      const json = find(config, rpc, "Connect JSON");
      const grpc = find(config, rpc, "gRPC");
      return [
        labelOf(report, config),
        rpc,
        json === undefined ? "–" : int(json.callsPerSecond),
        fixed(json?.cpuMsPerCall, 3),
        times(json?.cpuVsBare),
        fixed(json?.paced?.p99Ms, 2),
        fixed(json?.paced?.floorP99Ms, 2),
        fixed(grpc?.cpuMsPerCall, 3),
        times(grpc?.cpuVsBare),
        roundTrips(report, config, rpc),
      ];
    }),
  );
}

/** Every row: calls/s and CPU per call on each protocol, with their ratios to the bare server. */
function renderRows(report: BenchReport): string[] {
  return table(
    [
      "configuration",
      "protocol",
      "RPC",
      "calls/s",
      "× bare",
      "CPU ms/call",
      "floor CPU ms/call",
      "CPU × bare",
      "p50 ms",
      "p99 ms",
      "p99 ms at ½ rate",
      "round trips",
    ],
    [
      "left",
      "left",
      "left",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
      "right",
    ],
    report.rows.map((r) => [
      labelOf(report, r.config),
      r.protocol,
      r.rpc,
      int(r.callsPerSecond),
      times(r.rateVsBare),
      fixed(r.cpuMsPerCall, 3),
      fixed(r.floor?.cpuMsPerCall, 3),
      times(r.cpuVsBare),
      fixed(r.p50Ms, 2),
      fixed(r.p99Ms, 2),
      fixed(r.paced?.p99Ms, 2),
      roundTrips(report, r.config, r.rpc),
    ]),
  );
}

/** The report as markdown: header, the headline, the details, the notes. */
export function renderMarkdown(report: BenchReport): string {
  const { machine, timing } = report;
  const lines = [
    "# OTP service benchmark",
    "",
    `- ${report.date}${report.quick ? " · **--quick run**" : ""} · node ${machine.node} · nproc ${machine.nproc} (${machine.cpu}) · ${machine.os}`,
    `- 1-minute load average ${machine.loadAverageAtStart.toFixed(2)} at start, ${machine.loadAverageAtEnd.toFixed(2)} at end (above ~0 means other work shared the cores: calls/s suffer, CPU per call much less)`,
    `- a fresh process (and a fresh private redis-server) per configuration, warmed up with ${timing.startupWarmup} s of Health per protocol; then per RPC: ${timing.jitWarmup} s of warm-up per process serving calls (its code optimised before it is measured: with workers, each sees its share), ${timing.warmup} s more (MONITOR counts commands here), ${timing.measure} s measured at full speed (the floor's ${Math.max(1, Math.round(timing.measure / 2))} s right before and after it), ${timing.paced} s paced at half the measured rate, then the floor paced at that same rate for as long; ${timing.connections} connections throughout; load tools share the 2 cores with the service`,
    ...(machine.pauses === undefined ? [] : [pausesLine(machine.pauses)]),
    ...report.drivers.map((d) => `- ${d.protocol}: ${d.description}`),
    "- × bare: the row's calls/s, or its CPU per call, divided by a bare Connect-node server's (bench/bare-server.ts: one constant unary method, no interceptors) on the same protocol, measured for half a window right before and half right after the row's window: a second bare server stays up beside the service for that; the floor rows are the first bare server's own run",
    "- CPU ms/call: utime+stime of the service's processes (primary and workers) from /proc over the measured window, ÷ calls",
    "- round trips: sequential store round trips of one call on its own (median of single calls; Verify: wrong code on an exhausted challenge); see the round-trip table",
    "- in-service ≤ 10 ms: the share of the paced calls the service answered within 10 ms by its own clock (otp_rpc_duration_seconds from /metrics, from the interceptors' entry to the answer; one process only): what the load tool sees beyond it is parsing and writing, the sockets, and the wait for a core",
    "- floor p99 ms, same rate: the bare server's p99 paced at the row's own ½ rate right after the row's paced window: what a server doing nothing shows on this machine at this load; the row's p99 beyond it is the service's",
    "- CPU ms/call at ½ rate, and the floor's at the same rate: as at full speed, over the paced windows. A call costs more CPU at a fixed rate than at full speed, on the floor as on the service: each call then meets caches that other processes used in between, and wakes the process on its own instead of sharing a turn of the event loop",
    "- full GCs, GC ms/1k calls: the service's full (major) garbage collections during the paced window, and its GC pauses of every kind in ms per 1,000 calls (v8js_gc_duration from /metrics; one process only). A full collection holds up every call in flight, so these drive the tail, and they barely move with what else the cores run",
    "",
    "## Headline",
    "",
    ...renderHeadline(report),
    "",
    "## Every row",
    "",
    ...renderRows(report),
    "",
    "## Latency and store commands",
    "",
    ...table(
      [
        "configuration",
        "protocol",
        "RPC",
        "p50 ms",
        "p99 ms",
        "½ rate asked",
        "reached",
        "p50 ms",
        "p99 ms",
        "floor p99 ms, same rate",
        "CPU ms/call",
        "floor CPU ms/call, same rate",
        "in-service ≤ 10 ms",
        "full GCs",
        "GC ms/1k calls",
        "top-level cmds/call",
        "all cmds/call",
        "reads/call",
        "errors",
      ],
      [
        "left",
        "left",
        "left",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
        "right",
      ],
      report.rows.map((r) => [
        labelOf(report, r.config),
        r.protocol,
        r.rpc,
        fixed(r.p50Ms, 2),
        fixed(r.p99Ms, 2),
        int(r.paced?.targetRate ?? 0),
        int(r.paced?.callsPerSecond ?? 0),
        fixed(r.paced?.p50Ms, 2),
        fixed(r.paced?.p99Ms, 2),
        fixed(r.paced?.floorP99Ms, 2),
        fixed(r.paced?.cpuMsPerCall, 3),
        fixed(r.paced?.floorCpuMsPerCall, 3),
        percent(r.paced?.inServiceWithin10Ms),
        r.paced?.majorGcs === undefined ? "–" : int(r.paced.majorGcs),
        fixed(r.paced?.gcMsPerThousand, 1),
        fixed(r.topLevelPerCall, 2),
        fixed(r.commandsPerCall, 2),
        fixed(r.readsPerCall, 2),
        r.errors === null ? "not counted" : int(r.errors),
      ]),
    ),
    "",
    "## Round trips of single calls (Redis)",
    "",
    ...table(
      [
        "configuration",
        "call",
        "sequential round trips",
        "batches read",
        "top-level commands",
        "after the answer",
        "commands of a typical call",
      ],
      ["left", "left", "right", "right", "right", "right", "left"],
      report.results.flatMap((c) =>
        Object.entries(c.singleCalls ?? {}).map(([call, s]) => [
          c.label,
          call,
          String(s.roundTrips),
          String(s.reads),
          String(s.commands),
          String(s.afterAnswer),
          s.sequence.replaceAll("|", "\\|"),
        ]),
      ),
    ),
    "",
    "## Memory",
    "",
    ...table(
      [
        "configuration",
        "processes",
        "RSS after start-up MB (sum / largest)",
        "RSS under load MB (sum / largest)",
        `RSS idle ${report.timing.settle} s after load MB (sum / largest)`,
      ],
      ["left", "left", "right", "right", "right"],
      report.results.map((c) => [
        c.label,
        processList(c.processes),
        `${mb(c.rssIdleBytes.total)} / ${mb(c.rssIdleBytes.largest)}`,
        `${mb(c.rssLoadBytes.total)} / ${mb(c.rssLoadBytes.largest)}`,
        c.rssSettledBytes === undefined
          ? "–"
          : `${mb(c.rssSettledBytes.total)} / ${mb(c.rssSettledBytes.largest)}`,
      ]),
    ),
  ];
  if (report.rows.length === 0) lines.push("", "No row ran; see the notes.");
  if (report.notes.length > 0) lines.push("", "## Notes", "", ...report.notes.map((n) => `- ${n}`));
  return `${lines.join("\n")}\n`;
}

/**
 * A markdown table with padded columns, the way the repository's formatter
 * (biome) writes it, so a fresh latest.md passes `biome check` unchanged.
 */
export function table(head: string[], align: ("left" | "right")[], body: string[][]): string[] {
  const widths = head.map((h, i) =>
    Math.max(3, h.length, ...body.map((row) => row[i]?.length ?? 0)),
  );
  const cell = (text: string, i: number) =>
    align[i] === "right" ? text.padStart(widths[i] ?? 0) : text.padEnd(widths[i] ?? 0);
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  const rule = widths.map((w, i) =>
    align[i] === "right" ? `${"-".repeat(w - 1)}:` : "-".repeat(w),
  );
  return [line(head), `| ${rule.join(" | ")} |`, ...body.map(line)];
}

/** Writes latest.md and latest.json into `dir`. */
export async function writeReport(report: BenchReport, dir: URL): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(new URL("latest.md", dir), renderMarkdown(report));
  await writeFile(new URL("latest.json", dir), `${JSON.stringify(report, null, 2)}\n`);
}

/** Output of a process as one line of a note: whitespace collapsed, only the last `max` characters. */
export function outputTail(text: string, max = 600): string {
  const line = text.trim().replace(/\s+/g, " ");
  return line.length > max ? `...${line.slice(-max)}` : line;
}
