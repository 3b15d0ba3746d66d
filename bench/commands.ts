import { spawn } from "node:child_process";

/** What a finished command printed and how it ended. */
export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs a command to its end without blocking the event loop. It is killed
 * after `timeoutMs`, so a hung load tool cannot hold the bench forever, and
 * when this process exits.
 * Rejects when the command cannot be started at all (for example ENOENT).
 */
export function runCommand(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => {
      stdout += d.toString();
    });
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const kill = () => child.kill("SIGKILL");
    const timer = setTimeout(kill, timeoutMs);
    // A load tool must not outlive the bench, however the bench ends.
    process.on("exit", kill);
    const settle = () => {
      clearTimeout(timer);
      process.off("exit", kill);
    };
    child.on("error", (err) => {
      settle();
      reject(err);
    });
    child.on("close", (code) => {
      settle();
      resolve({ code, stdout, stderr });
    });
  });
}

/** True when `command args` starts and exits with 0. */
export async function commandAvailable(command: string, args: string[]): Promise<boolean> {
  try {
    return (await runCommand(command, args, 10_000)).code === 0;
  } catch {
    return false;
  }
}
