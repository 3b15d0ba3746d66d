/**
 * The process: reads the configuration (exit 78 when it is wrong), starts the
 * workers or the service (exit 69 when the store cannot be reached), prints
 * the banner, and drains on SIGTERM or SIGINT. Everything it runs is built by
 * the composition root in app.ts.
 */

import type { RunningServer } from "./app.js";
import { type Config, ConfigError, loadConfig } from "./config/index.js";
import { createLogger } from "./telemetry/logger.js";
import { isWorker, type ListeningMessage, runPrimary } from "./workers.js";

/** Flushes spans still buffered by the OpenTelemetry SDK, when otel-start.mjs started one. */
async function flushTelemetry(): Promise<void> {
  const shutdown = (globalThis as Record<symbol, unknown>)[Symbol.for("otp.telemetry.shutdown")];
  if (typeof shutdown === "function") await (shutdown as () => Promise<void>)().catch(() => {});
}

/** Runs the service from the command line until SIGTERM or SIGINT. */
async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`otp: ${err.message}\n`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  if (config.workers > 1 && !isWorker()) {
    runPrimary({
      workers: config.workers,
      shutdownGraceMs: config.shutdownGraceMs,
      onListening: (banner) =>
        process.stdout.write(
          banner.replace(
            /\n\n$/,
            `\n  workers    ${config.workers} processes${config.workersAuto ? " (auto: one per CPU; WORKERS sets another number)" : ""}\n\n`,
          ),
        ),
      log: (message, fields) => logger.info(fields ?? {}, message),
    });
    return;
  }
  // Loaded only where calls are served: the primary of several workers forks
  // and watches them, and keeps none of the service in its memory.
  const [{ startServer }, { StoreStartError }, { formatBanner }] = await Promise.all([
    import("./app.js"),
    import("./app/open-store.js"),
    import("./banner.js"),
  ]);
  let server: RunningServer;
  try {
    server = await startServer(config, { logger });
  } catch (err) {
    if (err instanceof StoreStartError) {
      process.stderr.write(`otp: ${err.message}\n`);
      process.exit(69); // EX_UNAVAILABLE
    }
    throw err;
  }
  if (isWorker()) {
    process.send?.({
      type: "otp-listening",
      banner: formatBanner(server),
    } satisfies ListeningMessage);
  } else {
    process.stdout.write(formatBanner(server));
  }
  let signals = 0;
  const stop = (signal: string) => {
    signals += 1;
    if (signals > 1) process.exit(1); // a second signal means "now"
    logger.info({ signal, grace_ms: config.shutdownGraceMs }, "draining");
    // If something refuses to finish, exit anyway shortly after the grace period.
    setTimeout(() => process.exit(1), config.shutdownGraceMs + 5_000).unref();
    server.close().then(
      async () => {
        logger.info("stopped");
        await flushTelemetry();
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.on("SIGTERM", () => stop("SIGTERM"));
  process.on("SIGINT", () => stop("SIGINT"));
}

await main();
