import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { startProdArgs } from "../test/support/start-prod.js";
import { outputTail } from "./report.js";

const repoRoot = fileURLToPath(new URL("..", import.meta.url));

/** The service under test, running as its own process. */
export interface ServiceProcess {
  /** The base URL from the banner, always on 127.0.0.1. */
  url: string;
  /** The pid of the process started (the primary when it forks workers). */
  pid: number;
  /** SIGTERM, then SIGKILL if it has not exited within a few seconds. Safe to call twice. */
  stop(): Promise<void>;
  /** Undefined while it runs; once it has exited by itself, how it ended and the tail of its output. */
  exitReport(): string | undefined;
}

/** The service exited before it printed where it listens, for example because the config refused `env`. */
export class ServiceExitedError extends Error {
  override readonly name = "ServiceExitedError";
  readonly code: number | null;
  readonly output: string;
  constructor(code: number | null, output: string) {
    super(`the service exited with ${code} before listening:\n${output}`);
    this.code = code;
    this.output = output;
  }
}

/**
 * The service's command line: `BENCH_SERVICE_ENTRY` run the way
 * `npm run start:prod` runs production (its V8 flags and preloads; run.ts
 * sets the entry to the compiled `dist/src/main.js`), or else
 * `node --import tsx src/main.ts`, what `npm start` runs in development.
 */
export function serviceCommand(): string[] {
  const entry = process.env.BENCH_SERVICE_ENTRY;
  return entry === undefined || entry === ""
    ? ["--import", "tsx", "src/main.ts"]
    : [...productionNodeOptions(), entry];
}

/** The bare floor's command line (bench/bare-server.ts, under tsx with Node's defaults). */
export const bareServerArgs = ["--import", "tsx", "bench/bare-server.ts"];

/**
 * The options `npm run start:prod` gives node before its entry (V8 memory
 * flags, the telemetry preloads), so the bench never measures a command line
 * production does not run.
 */
export function productionNodeOptions(): string[] {
  return startProdArgs().slice(0, -1);
}

/**
 * Starts `node <args>` on a free port of 127.0.0.1 and waits for the
 * banner's `listening on http://...`. The child is killed when this process
 * exits, whatever the reason.
 */
export async function startService(
  env: Record<string, string>,
  args: string[] = serviceCommand(),
  startTimeoutMs = 60_000,
): Promise<ServiceProcess> {
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      ...env,
      PORT: "0",
      HOST: "127.0.0.1",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const killNow = () => child.kill("SIGKILL");
  process.on("exit", killNow);
  const exited = once(child, "exit").then(([code]) => code as number | null);

  // Keep only the tail of the output: enough to explain a failure, never a
  // growing buffer. The pipes must be drained, or a chatty child would block.
  let output = "";
  let stdout = "";
  const keep = (text: string) => {
    output = (output + text).slice(-20_000);
  };
  child.stderr.on("data", (d: Buffer) => keep(d.toString()));

  let stopping = false;
  const stop = async () => {
    stopping = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(killNow, 5_000);
      await exited;
      clearTimeout(timer);
    }
    process.off("exit", killNow);
  };

  try {
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on("data", (d: Buffer) => {
        const text = d.toString();
        keep(text);
        if (stdout.length < 10_000) stdout += text;
        const match = /listening on (http:\/\/\S+)/.exec(stdout);
        if (match?.[1] !== undefined) resolve(match[1]);
      });
      exited.then((code) => reject(new ServiceExitedError(code, output)));
      setTimeout(
        () => reject(new Error(`the service printed no banner within ${startTimeoutMs} ms`)),
        startTimeoutMs,
      ).unref();
    });
    if (new URL(url).hostname !== "127.0.0.1") {
      throw new Error(`the service listens on ${url}; the bench only loads 127.0.0.1`);
    }
    const exitReport = () =>
      stopping || (child.exitCode === null && child.signalCode === null)
        ? undefined
        : `the service exited (${child.exitCode ?? child.signalCode}) during the run; its last output: ${outputTail(output)}`;
    return { url, pid: child.pid ?? 0, stop, exitReport };
  } catch (err) {
    await stop();
    throw err;
  }
}
