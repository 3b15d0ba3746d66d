import { mkdir, writeFile } from "node:fs/promises";

/** One measured scenario. */
export interface ResultRow {
  protocol: string;
  rpc: string;
  procedure: string;
  store: string;
  callsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** Failed calls in the measured window; null when they could not be counted. */
  errors: number | null;
  /** calls/s divided by the baseline's calls/s for the same protocol and store; null without a baseline. */
  ratio: number | null;
  calls: number;
  /** Calls by Connect code, from the service's /metrics, measured window only. */
  serverCodes?: Record<string, number>;
  /** Verify results from the service's /metrics, measured window only. */
  verifyResults?: Record<string, number>;
  /** The load tool's own counters. */
  loadTool: Record<string, number>;
}

/** Everything one run measured, as written to bench/results/latest.json. */
export interface BenchReport {
  date: string;
  machine: {
    nproc: number;
    cpu: string;
    node: string;
    os: string;
    /** 1-minute load averages: other work on the box skews every row, the ratios less. */
    loadAverageAtStart: number;
    loadAverageAtEnd: number;
  };
  durationSeconds: number;
  warmupSeconds: number;
  startupWarmupSeconds: number;
  drivers: { protocol: string; description: string }[];
  rows: ResultRow[];
  notes: string[];
}

const int = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : "n/a");

/** The report as markdown: a short header, one table row per scenario, then the notes. */
export function renderMarkdown(report: BenchReport): string {
  const { machine } = report;
  const lines = [
    "# OTP service benchmark",
    "",
    `- ${report.date} · node ${machine.node} · nproc ${machine.nproc} (${machine.cpu}) · ${machine.os}`,
    `- 1-minute load average ${machine.loadAverageAtStart.toFixed(2)} at start, ${machine.loadAverageAtEnd.toFixed(2)} at end (anything above ~0 means other work shared the cores)`,
    `- a fresh service per store, warmed up with ${report.startupWarmupSeconds} s of the baseline per protocol; then each scenario: ${report.warmupSeconds} s warm-up (not counted), ${report.durationSeconds} s measured; the service and the load tool share the machine`,
    ...report.drivers.map((d) => `- ${d.protocol}: ${d.description}`),
    "- ratio = calls/s ÷ calls/s of the baseline (grpc.health.v1.Health/Check) on the same protocol, store and run",
    "",
    ...table(
      ["protocol", "RPC", "store", "calls/s", "p50 ms", "p99 ms", "errors", "ratio vs baseline"],
      ["left", "left", "left", "right", "right", "right", "right", "right"],
      report.rows.map((r) => [
        r.protocol,
        r.rpc,
        r.store,
        int(r.callsPerSecond),
        ms(r.p50Ms),
        ms(r.p99Ms),
        r.errors === null ? "unknown" : int(r.errors),
        r.ratio === null ? "n/a" : r.ratio.toFixed(2),
      ]),
    ),
  ];
  if (report.rows.length === 0) lines.push("", "No scenario ran; see the notes.");
  if (report.notes.length > 0) lines.push("", ...report.notes.map((n) => `- ${n}`));
  return `${lines.join("\n")}\n`;
}

/**
 * A markdown table with padded columns, the way the repository's formatter
 * (biome) writes it, so a fresh latest.md passes `biome check` unchanged.
 */
function table(head: string[], align: ("left" | "right")[], body: string[][]): string[] {
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

/** `{ ok: 3, not_found: 1 }` as `ok 3, not_found 1`. */
export function formatCounts(counts: Record<string, number>): string {
  const entries = Object.entries(counts);
  return entries.length === 0 ? "none" : entries.map(([k, v]) => `${k} ${int(v)}`).join(", ");
}

/** Output of a process as one line of a note: whitespace collapsed, only the last `max` characters. */
export function outputTail(text: string, max = 600): string {
  const line = text.trim().replace(/\s+/g, " ");
  return line.length > max ? `...${line.slice(-max)}` : line;
}
