import type { LoadDriver } from "./load.js";
import { formatCounts, type ResultRow } from "./report.js";
import { baselineScenario, type Scenario, scenarios } from "./scenarios.js";
import { growth, scrapeMetrics } from "./server-metrics.js";

/** One service under load: where it is, which store it runs on, how long to load it. */
export interface SuiteInput {
  baseUrl: string;
  /** Undefined while the service runs; why it stopped once it has. */
  serviceExitReport: () => string | undefined;
  store: string;
  drivers: LoadDriver[];
  durationSeconds: number;
  warmupSeconds: number;
  /** Seconds of baseline load per driver on the fresh service before anything is measured. */
  startupWarmupSeconds: number;
}

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/**
 * Runs every scenario on every driver against one service, baseline first.
 * Each run is a warm-up, a snapshot of the service's counters, the measured
 * load, and a second snapshot, so server-side counts cover exactly the
 * measured window. A scenario that fails is reported in the notes; the others
 * still run.
 */
export async function runSuite(input: SuiteInput): Promise<{ rows: ResultRow[]; notes: string[] }> {
  const rows: ResultRow[] = [];
  const notes: string[] = [];
  // Loading a dead port would only fill the table with refused connections.
  const serviceRuns = () => {
    const exited = input.serviceExitReport();
    if (exited === undefined) return true;
    notes.push(`${input.store}: ${exited}`);
    progress(exited);
    return false;
  };
  try {
    for (const driver of input.drivers) await warmUp(input, driver);
  } catch (err) {
    notes.push(`${input.store}: start-up warm-up failed: ${message(err)}`);
    serviceRuns();
    return { rows, notes };
  }
  for (const driver of input.drivers) {
    let baseline: number | undefined;
    for (const scenario of scenarios) {
      if (scenario.rotatingBodies && !driver.rotatesBodies) continue;
      if (!serviceRuns()) return { rows, notes };
      const where = `${driver.protocol} · ${scenario.rpc} · ${input.store}`;
      try {
        const row = await measure(input, driver, scenario, baseline, notes);
        if (scenario.baseline) baseline = row.callsPerSecond;
        row.ratio = baseline === undefined || baseline <= 0 ? null : row.callsPerSecond / baseline;
        rows.push(row);
        progress(`${where}: ${Math.round(row.callsPerSecond)} calls/s, ${row.errors} errors`);
      } catch (err) {
        notes.push(`${where}: failed: ${message(err)}`);
        progress(`${where}: failed: ${message(err)}`);
      }
    }
  }
  serviceRuns();
  return { rows, notes };
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// A fresh service needs a few seconds before its calls/s settle (JIT, lazily
// loaded code); the per-scenario warm-up alone would leave the first rows, the
// baseline among them, measured cold.
async function warmUp(input: SuiteInput, driver: LoadDriver): Promise<void> {
  progress(`${driver.protocol}: start-up warm-up ${input.startupWarmupSeconds} s`);
  const payloads = await baselineScenario.payloads({
    baseUrl: input.baseUrl,
    baselineCallsPerSecond: 0,
    loadSeconds: input.startupWarmupSeconds,
  });
  const target = await driver.prepare(input.baseUrl, baselineScenario.procedure, payloads);
  try {
    await target.run(input.startupWarmupSeconds);
  } finally {
    await target.close();
  }
}

async function measure(
  input: SuiteInput,
  driver: LoadDriver,
  scenario: Scenario,
  baseline: number | undefined,
  notes: string[],
): Promise<ResultRow> {
  const where = `${driver.protocol} · ${scenario.rpc} · ${input.store}`;
  const { note, ...payloads } = await scenario.payloads({
    baseUrl: input.baseUrl,
    baselineCallsPerSecond: baseline ?? 0,
    loadSeconds: input.warmupSeconds + input.durationSeconds,
  });
  if (note !== undefined) notes.push(`${where}: ${note}`);
  const target = await driver.prepare(input.baseUrl, scenario.procedure, payloads);
  try {
    progress(`${where}: warm-up ${input.warmupSeconds} s, then ${input.durationSeconds} s`);
    await target.run(input.warmupSeconds);
    const before = await scrapeMetrics(input.baseUrl);
    const result = await target.run(input.durationSeconds);
    const after = await scrapeMetrics(input.baseUrl);

    const counted = before !== undefined && after !== undefined;
    const serverCodes = counted
      ? growth(
          before,
          after,
          "otp_rpc_duration_seconds_count",
          { method: scenario.procedure },
          "code",
        )
      : undefined;
    const verifyResults =
      counted && scenario.procedure.endsWith("/Verify")
        ? growth(before, after, "otp_verifications_total", {}, "result")
        : undefined;
    const serverErrors =
      serverCodes === undefined
        ? undefined
        : Object.entries(serverCodes).reduce((sum, [code, n]) => sum + (code === "ok" ? 0 : n), 0);

    // A Connect error is a non-2xx response, which the load tool counts. A
    // gRPC error is an HTTP 200 with grpc-status in the trailers, which h2load
    // cannot read: those come from the service's own counts.
    let errors: number | null = result.clientErrors;
    if (!driver.seesRpcErrors) errors = serverErrors === undefined ? null : errors + serverErrors;

    if (serverCodes === undefined) notes.push(`${where}: /metrics unavailable, no server counts`);
    else if (serverErrors !== 0) notes.push(`${where}: server codes ${formatCounts(serverCodes)}`);
    if (verifyResults !== undefined) {
      notes.push(`${where}: Verify results seen by the server: ${formatCounts(verifyResults)}`);
    }
    return {
      protocol: driver.protocol,
      rpc: scenario.rpc,
      procedure: scenario.procedure,
      store: input.store,
      callsPerSecond: result.callsPerSecond,
      p50Ms: result.p50Ms,
      p99Ms: result.p99Ms,
      errors,
      ratio: null,
      calls: result.calls,
      ...(serverCodes === undefined ? {} : { serverCodes }),
      ...(verifyResults === undefined ? {} : { verifyResults }),
      loadTool: result.detail,
    };
  } finally {
    await target.close();
  }
}
