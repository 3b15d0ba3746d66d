import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { sharedKeys } from "./secrets.js";

/** The service running as its own process, the way `npm start` runs it. */
export interface ServerProcess {
  child: ChildProcess;
  url: string;
  port: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process has ended. */
  exited: Promise<number | null>;
}

/** The node arguments `npm start` uses. */
export const startArgs = [
  "--import",
  "./src/telemetry/otel-register.mjs",
  "--import",
  "./src/telemetry/otel-start.mjs",
  "--import",
  "tsx",
  "src/main.ts",
];

/**
 * Starts `src/main.ts` with tsx in a child process on a free port and waits
 * for the banner's URL. Rejects with the output if the process exits first.
 */
export async function spawnServer(
  env: Record<string, string> = {},
  args: readonly string[] = startArgs,
): Promise<ServerProcess> {
  // The same command line as `npm start`, telemetry preloads included (or the one given).
  const child = spawn(process.execPath, args, {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      PORT: "0",
      ...sharedKeys,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = once(child, "exit").then(([code]) => code as number | null);
  const url = await new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    };
    child.stdout?.on("data", check);
    exited.then((code) => reject(new Error(`server exited with ${code}:\n${out}\n${err}`)));
  });
  return {
    child,
    url,
    port: Number(new URL(url).port),
    stdout: () => out,
    stderr: () => err,
    exited,
  };
}

/** Runs a command without blocking the event loop; resolves with its output and exit code. */
export async function run(
  command: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => {
    stdout += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    stderr += d.toString();
  });
  const [code] = await once(child, "exit");
  return { code: code as number | null, stdout, stderr };
}
