import { spawn } from "node:child_process";
import { once } from "node:events";
import { availableParallelism } from "node:os";

/** One pause a busy thread saw: how long it lasted, and how much of it the thread spent runnable but not running. */
export interface Pause {
  ms: number;
  runQueueMs: number;
}

/** What the machine took from busy threads, one per core, with nothing else of the bench running. */
export interface MachinePauses {
  seconds: number;
  threads: number;
  /** Pauses of more than 2 ms, over all threads. */
  over2Ms: number;
  longestMs: number;
  /** The time lost to pauses of more than 1 ms, per thread and second. */
  lostMsPerSecond: number;
  /** The share of that lost time the thread waited in the run queue, behind another task of this machine; the rest the machine's kernel or host took. */
  runQueueShare: number;
}

// The busy loop each child runs: it notes every gap of more than 1 ms between
// two clock reads, and the run-queue wait the kernel counted for the thread
// meanwhile (/proc/thread-self/schedstat, its second field, in ns).
const busyLoop = `
const { readFileSync } = require("node:fs");
const wait = () => Number(readFileSync("/proc/thread-self/schedstat", "latin1").split(" ")[1]) / 1e6;
const end = performance.now() + Number(process.argv[1]) * 1000;
const pauses = [];
let last = performance.now();
let waited = wait();
while (last < end) {
  const now = performance.now();
  if (now - last > 1) {
    const w = wait();
    pauses.push([now - last, w - waited]);
    waited = w;
  }
  last = now;
}
process.stdout.write(JSON.stringify(pauses));
`;

/**
 * Sums the pauses of `threads` busy threads over `seconds`.
 *
 * @example
 * summarizePauses([[{ ms: 6.5, runQueueMs: 6.1 }], []], 5);
 * // { seconds: 5, threads: 2, over2Ms: 1, longestMs: 6.5, lostMsPerSecond: 0.65, runQueueShare: 0.94 }
 */
export function summarizePauses(perThread: readonly Pause[][], seconds: number): MachinePauses {
  const all = perThread.flat();
  const lost = all.reduce((sum, p) => sum + p.ms, 0);
  // The run-queue wait is read only after a gap, so it can include a little before it.
  const queued = all.reduce((sum, p) => sum + Math.min(p.ms, p.runQueueMs), 0);
  return {
    seconds,
    threads: perThread.length,
    over2Ms: all.filter((p) => p.ms > 2).length,
    longestMs: all.reduce((max, p) => Math.max(max, p.ms), 0),
    lostMsPerSecond: perThread.length === 0 ? 0 : lost / perThread.length / seconds,
    runQueueShare: lost === 0 ? 0 : queued / lost,
  };
}

/** The machine's own pauses, as one line of the header. */
export function pausesLine(p: MachinePauses): string {
  return `- the machine's own pauses, before the run: ${p.threads} busy threads (one per core) lost ${p.lostMsPerSecond.toFixed(1)} ms a second each in ${p.seconds} s, ${p.over2Ms} pauses over 2 ms, the longest ${p.longestMs.toFixed(1)} ms; ${Math.round(p.runQueueShare * 100)} % of it waiting behind other tasks of this machine, the rest taken by its kernel or host. A p99 at a fixed rate cannot be lower than what such pauses add`;
}

/**
 * Runs one busy Node.js thread per core for `seconds` and reports the pauses
 * they saw: what a service on this machine loses before it does any work.
 * Linux only (it reads /proc).
 */
export async function measureMachinePauses(seconds: number): Promise<MachinePauses> {
  const threads = availableParallelism();
  const runs = Array.from({ length: threads }, async () => {
    const child = spawn(process.execPath, ["-e", busyLoop, String(seconds)], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const [code] = (await once(child, "exit")) as [number | null];
    if (code !== 0) throw new Error(`the busy loop exited with ${code}`);
    return (JSON.parse(out) as [number, number][]).map(([ms, runQueueMs]) => ({ ms, runQueueMs }));
  });
  return summarizePauses(await Promise.all(runs), seconds);
}
