import { readdir, readFile } from "node:fs/promises";
import { runCommand } from "./commands.js";

/** What `/proc/<pid>/stat` says about one process. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** The command name (field 2), e.g. `node`. */
  name: string;
  /** User plus system CPU time of all its threads, in clock ticks. */
  cpuTicks: number;
}

/**
 * Parses one `/proc/<pid>/stat` line. The command name (field 2) is in
 * parentheses and may itself hold spaces or parentheses, so the fields are
 * counted from the last `)`: state is field 3, ppid 4, utime 14, stime 15.
 *
 * @example
 * parseProcStat("42 (node) S 1 42 42 0 -1 4194560 0 0 0 0 150 30 0 0 20 0 11 0");
 * // { pid: 42, ppid: 1, name: "node", cpuTicks: 180 }
 */
export function parseProcStat(line: string): ProcStat {
  const close = line.lastIndexOf(")");
  if (close < 0) throw new Error(`not a /proc stat line: ${line.slice(0, 80)}`);
  const pid = Number(line.slice(0, line.indexOf(" ")));
  // After ")": " S ppid ..." -> index 0 is the state (field 3).
  const rest = line
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const field = (n: number) => Number(rest[n - 3]);
  const ppid = field(4);
  const utime = field(14);
  const stime = field(15);
  if (![pid, ppid, utime, stime].every(Number.isFinite)) {
    throw new Error(`unexpected /proc stat line: ${line.slice(0, 120)}`);
  }
  const name = line.slice(line.indexOf("(") + 1, close);
  return { pid, ppid, name, cpuTicks: utime + stime };
}

/** The resident set in bytes from `/proc/<pid>/status` (its `VmRSS:` line, in kB); undefined if absent. */
export function parseRssBytes(status: string): number | undefined {
  const found = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return found?.[1] === undefined ? undefined : Number(found[1]) * 1024;
}

/**
 * The pids of `root` and all its descendants, from a list of every process's
 * stat: the primary of `WORKERS>1` and the workers `node:cluster` forked.
 */
export function descendants(root: number, all: readonly ProcStat[]): number[] {
  const children = new Map<number, number[]>();
  for (const p of all) children.set(p.ppid, [...(children.get(p.ppid) ?? []), p.pid]);
  const out: number[] = [];
  const queue = [root];
  for (let pid = queue.shift(); pid !== undefined; pid = queue.shift()) {
    out.push(pid);
    queue.push(...(children.get(pid) ?? []));
  }
  return out;
}

async function readStat(pid: number | string): Promise<ProcStat | undefined> {
  try {
    return parseProcStat(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined; // gone meanwhile
  }
}

/** A process tree's CPU time and memory at one moment. */
export interface TreeSample {
  pids: number[];
  /** Command names, in `pids` order. */
  names: string[];
  /** Sum of utime+stime over the tree, in clock ticks. */
  cpuTicks: number;
  /** RSS of each process, in bytes, in `pids` order. */
  rssBytes: number[];
}

/**
 * Reads the CPU time and RSS of `root` and every process below it. Scans
 * `/proc` for children rather than relying on `/proc/<pid>/task/*\/children`,
 * which some kernels do not expose.
 */
export async function sampleTree(root: number): Promise<TreeSample> {
  const entries = (await readdir("/proc")).filter((name) => /^\d+$/.test(name));
  const all = (await Promise.all(entries.map(readStat))).filter(
    (s): s is ProcStat => s !== undefined,
  );
  const pids = descendants(root, all);
  const byPid = new Map(all.map((s) => [s.pid, s]));
  const rssBytes = await Promise.all(
    pids.map(async (pid) => {
      try {
        return parseRssBytes(await readFile(`/proc/${pid}/status`, "utf8")) ?? 0;
      } catch {
        return 0;
      }
    }),
  );
  return {
    pids,
    names: pids.map((pid) => byPid.get(pid)?.name ?? "?"),
    cpuTicks: pids.reduce((sum, pid) => sum + (byPid.get(pid)?.cpuTicks ?? 0), 0),
    rssBytes,
  };
}

/** True when this machine has a Linux `/proc` the bench can read. */
export async function procAvailable(): Promise<boolean> {
  return (await readStat("self")) !== undefined;
}

/** Clock ticks per second, the unit of /proc's CPU times (`getconf CLK_TCK`, 100 if it says nothing). */
export async function clockTicksPerSecond(): Promise<number> {
  return Number((await runCommand("getconf", ["CLK_TCK"], 10_000)).stdout.trim()) || 100;
}

/** The CPU milliseconds a process tree used between two samples. */
export function cpuMsBetween(
  before: TreeSample,
  after: TreeSample,
  ticksPerSecond: number,
): number {
  return ((after.cpuTicks - before.cpuTicks) * 1000) / ticksPerSecond;
}
