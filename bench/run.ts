import { randomBytes } from "node:crypto";
import { availableParallelism, cpus, loadavg, platform, release } from "node:os";
import { createCleanup } from "./cleanup.js";
import { commandAvailable } from "./commands.js";
import { connectDriver } from "./connect-load.js";
import { grpcDriver, h2loadInstallHint } from "./grpc-load.js";
import type { LoadDriver } from "./load.js";
import { parseOptions } from "./options.js";
import { type BenchReport, outputTail, renderMarkdown, writeReport } from "./report.js";
import { ServiceExitedError, startService } from "./service.js";
import { prepareStore, StoreUnavailableError } from "./stores.js";
import { runSuite } from "./suite.js";

// The service as the bench runs it: quiet logs (one info line per RPC would
// cost more than some RPCs), and no limit that would throttle the load.
const benchEnv = {
  LOG_LEVEL: "warn",
  RESEND_COOLDOWN_SECONDS: "0",
  RATE_LIMIT_GENERATE_PER_IP: "off",
  RATE_LIMIT_VERIFY_PER_IP: "off",
  RATE_LIMIT_VERIFY_PER_CHALLENGE: "off",
  RATE_LIMIT_SENDS_PER_RECIPIENT: "off",
  RATE_LIMIT_PUBLISHABLE_PER_IP: "off",
  TENANT_QUOTA_GENERATE: "off",
  TENANT_QUOTA_SENDS_PER_CHANNEL: "off",
  SHUTDOWN_GRACE_SECONDS: "1",
  // A shared store requires a configured secret; every store gets one so
  // that they run the same configuration. A fresh one each run.
  OTP_HMAC_SECRET: randomBytes(32).toString("base64url"),
  TOTP_ENCRYPTION_KEY: randomBytes(32).toString("base64"),
};

async function main(): Promise<void> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: {
      nproc: availableParallelism(),
      cpu: cpus()[0]?.model.trim() ?? "unknown cpu",
      node: process.version,
      os: `${platform()} ${release()}`,
      loadAverageAtStart: loadavg()[0] ?? 0,
      loadAverageAtEnd: 0,
    },
    durationSeconds: options.durationSeconds,
    warmupSeconds: options.warmupSeconds,
    startupWarmupSeconds: options.startupWarmupSeconds,
    drivers: [],
    rows: [],
    notes: [],
  };

  const drivers: LoadDriver[] = [];
  if (await commandAvailable("h2load", ["--version"])) {
    drivers.push(grpcDriver);
  } else {
    process.stderr.write(`bench: ${h2loadInstallHint}\n`);
    report.notes.push(h2loadInstallHint);
  }
  drivers.push(connectDriver);
  report.drivers = drivers.map(({ protocol, description }) => ({ protocol, description }));

  const cleanup = createCleanup();
  try {
    for (const storeName of options.stores) {
      let store: Awaited<ReturnType<typeof prepareStore>>;
      try {
        store = await prepareStore(storeName);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) throw err;
        report.notes.push(`${storeName} store skipped: ${err.message}`);
        continue;
      }
      cleanup.add(store.stop);
      let service: Awaited<ReturnType<typeof startService>>;
      try {
        service = await startService({ ...benchEnv, ...store.env });
      } catch (err) {
        if (!(err instanceof ServiceExitedError)) throw err;
        // A build without the Redis store refuses REDIS_URL itself; any other
        // refusal is reported as it is.
        const message = /^\s*- REDIS_URL:/m.test(err.output)
          ? "redis store not available in this build"
          : `the service refused to start on the ${storeName} store`;
        process.stderr.write(`bench: ${message}\n${err.output}\n`);
        report.notes.push(
          `${message}; ${storeName} rows skipped. It said: ${outputTail(err.output)}`,
        );
        continue;
      }
      cleanup.add(service.stop);
      process.stderr.write(`bench: ${storeName} store, service at ${service.url}\n`);
      const { rows, notes } = await runSuite({
        baseUrl: service.url,
        serviceExitReport: service.exitReport,
        store: storeName,
        drivers,
        durationSeconds: options.durationSeconds,
        warmupSeconds: options.warmupSeconds,
        startupWarmupSeconds: options.startupWarmupSeconds,
      });
      report.rows.push(...rows);
      report.notes.push(...notes);
      await service.stop();
      await store.stop();
    }
  } finally {
    await cleanup.run();
  }

  report.machine.loadAverageAtEnd = loadavg()[0] ?? 0;
  await writeReport(report, new URL("./results/", import.meta.url));
  process.stdout.write(renderMarkdown(report));
}

await main();
