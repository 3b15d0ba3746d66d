import { spawn } from "node:child_process";
import { once } from "node:events";
import { availableParallelism, cpus, loadavg, platform, release } from "node:os";
import { fileURLToPath } from "node:url";
import { nodeRuntime } from "../scripts/node-runtime.js";
import { createCleanup } from "./cleanup.js";
import { commandAvailable, runCommand } from "./commands.js";
import { allConfigs, raisedLimits } from "./configs.js";
import { startFloorProbe } from "./floor-probe.js";
import { grpcDriver, h2loadInstallHint } from "./grpc-load.js";
import type { LoadDriver } from "./load.js";
import { measureMachinePauses } from "./machine-pauses.js";
import { parseOptions } from "./options.js";
import { clockTicksPerSecond, procAvailable } from "./proc.js";
import { type BenchReport, renderMarkdown, writeReport } from "./report.js";
import { type FloorProbe, runConfig } from "./suite.js";
import { wrkDriver, wrkInstallHint } from "./wrk-load.js";

// Secrets and credentials stay out of the committed JSON.
const shownEnv = (env: Record<string, string>) =>
  Object.fromEntries(
    Object.entries(env).filter(([k]) => !/SECRET|KEY|TOKEN/.test(k) || k.startsWith("RATE_")),
  );

function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  if (options.node !== undefined) {
    // nodeRuntime answers this process's own node when it already is that major.
    const node = await nodeRuntime(options.node);
    if (node !== process.execPath) await rerunUnder(options.node, node);
  }
  if (!(await procAvailable())) {
    process.stderr.write("bench: needs Linux /proc to read the service's CPU time\n");
    process.exit(69);
  }
  const ticks = await clockTicksPerSecond();
  // Production runs compiled JavaScript (npm run build:service); so does the bench,
  // unless BENCH_SERVICE_ENTRY names another entry.
  if (process.env.BENCH_SERVICE_ENTRY === undefined) {
    progress("compiling the service (npm run build:service)");
    await runCommand(process.execPath, ["scripts/build-service.mjs"], 120_000);
    process.env.BENCH_SERVICE_ENTRY = "dist/src/main.js";
  }
  const configs = allConfigs().filter(
    (c) => c.kind === "bare" || options.only === undefined || options.only.includes(c.name),
  );
  const report: BenchReport = {
    date: new Date().toISOString(),
    quick: options.quick,
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model.trim() ?? "unknown cpu",
      node: process.version,
      os: `${platform()} ${release()}`,
      loadAverageAtStart: loadavg()[0] ?? 0,
      loadAverageAtEnd: 0,
    },
    timing: options.timing,
    drivers: [],
    configs: configs.map((c) => ({
      name: c.name,
      label: c.label,
      store: c.store,
      production: c.production,
      env: shownEnv(c.env),
    })),
    rows: [],
    results: [],
    notes: [],
  };

  const drivers: LoadDriver[] = [];
  for (const [driver, tool, hint] of [
    [wrkDriver, "wrk", wrkInstallHint],
    [grpcDriver, "h2load", h2loadInstallHint],
  ] as const) {
    // wrk prints its usage and exits 1 on -v; h2load exits 0 on --version.
    const found = await commandAvailable("sh", ["-c", `command -v ${tool}`]);
    if (found) drivers.push(driver);
    else {
      progress(hint);
      report.notes.push(hint);
    }
  }
  report.drivers = drivers.map(({ protocol, description }) => ({ protocol, description }));
  if (!(await commandAvailable("redis-server", ["--version"]))) {
    const note =
      "redis-server not found (apt-get install -y redis-server): the Redis rows are skipped";
    progress(note);
    report.notes.push(note);
  }
  report.notes.push(
    `Production rows: NODE_ENV=production, calls with a secret API key made through AdminService, every default limit, quota and usage counter on; the limits a one-address, one-tenant, one-challenge load would exhaust are raised, not turned off: ${Object.entries(
      raisedLimits,
    )
      .map(([k, v]) => `${k}=${v}`)
      .join(", ")}. Development rows turn limits and quotas off.`,
  );

  progress("the machine's own pauses: one busy thread per core for 5 s");
  report.machine.pauses = await measureMachinePauses(5);

  const cleanup = createCleanup();
  const bare = configs.find((c) => c.kind === "bare");
  let floorProbe: FloorProbe | undefined;
  try {
    for (const config of configs) {
      if (config.store === "redis" && !(await commandAvailable("redis-server", ["--version"]))) {
        continue;
      }
      const floor = report.rows.filter((r) => r.config === "bare");
      progress(`${config.label}: starting`);
      if (floorProbe === undefined && config.kind === "service" && bare !== undefined) {
        progress("bare Connect-node (floor): a second one, measured around every window");
        const started = await startFloorProbe(
          drivers,
          ticks,
          options.timing.startupWarmup,
          options.timing.connections,
        );
        cleanup.add(started.stop);
        floorProbe = started;
      }
      const { rows, result, notes } = await runConfig({
        config,
        drivers,
        timing: options.timing,
        ticksPerSecond: ticks,
        floor,
        ...(floorProbe === undefined ? {} : { floorProbe }),
        progress,
        onInterrupt: (step) => cleanup.add(step),
      });
      report.rows.push(...rows);
      if (result !== undefined) report.results.push(result);
      report.notes.push(...notes);
    }
  } finally {
    await cleanup.run();
  }
  report.machine.loadAverageAtEnd = loadavg()[0] ?? 0;
  await writeReport(report, new URL("./results/", import.meta.url));
  process.stdout.write(renderMarkdown(report));
}

/**
 * Runs this same bench under `node` (Node.js `major`) and exits with its code: every
 * process it starts (the build, the service, the floor) then runs on it too,
 * since they are started with `process.execPath`.
 */
async function rerunUnder(major: string, node: string): Promise<never> {
  progress(`running under Node ${major}: ${node}`);
  const child = spawn(
    node,
    ["--import", "tsx", fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  const [code] = (await once(child, "exit")) as [number | null];
  process.exit(code ?? 1);
}

await main();
