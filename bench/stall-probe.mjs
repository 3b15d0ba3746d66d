// A diagnostic preload: what held up a Node process's event loop, and why.
//
//   node --import ./bench/stall-probe.mjs dist/src/main.js
//
// Every 2 ms a timer reads the main thread's run time and run-queue wait
// (/proc/thread-self/schedstat, Linux). When a tick comes more than
// STALL_PROBE_MS (default 5) late, the loop was held up: the probe notes for
// how long, how much of that the thread spent waiting for a core (other
// processes of the machine had them), and which GC pauses fall inside it. On
// exit it prints a summary to stderr, and writes every stall as JSON to
// STALL_PROBE_OUT when that is set. The timer itself costs CPU (500 wake-ups a
// second): use it to find where a tail comes from, never while measuring CPU
// per call. docs/hot-path.md ("What is left: the tail") has what it found.
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { PerformanceObserver, performance } from "node:perf_hooks";
import { stallLine, summarizeStalls, tickMs } from "./stall-summary.mjs";

function start() {
  const thresholdMs = Number(process.env.STALL_PROBE_MS ?? 5);
  const gcs = [];
  const stalls = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ atMs: e.startTime, ms: e.duration });
  }).observe({ entryTypes: ["gc"] });
  const tid = readFileSync("/proc/thread-self/stat", "utf8").split(" ")[0];
  const fd = openSync(`/proc/self/task/${tid}/schedstat`, "r");
  const buf = Buffer.alloc(128);
  const waited = () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return Number(buf.toString("latin1", 0, n).split(" ")[1]) / 1e6;
  };
  let last = performance.now();
  let lastWait = waited();
  setInterval(() => {
    const now = performance.now();
    const wait = waited();
    const lateMs = now - last - tickMs;
    if (lateMs > thresholdMs) stalls.push({ atMs: last, lateMs, waitMs: wait - lastWait });
    last = now;
    lastWait = wait;
  }, tickMs).unref();
  process.on("exit", () => {
    closeSync(fd);
    process.stderr.write(`${stallLine(summarizeStalls(stalls, gcs), thresholdMs)}\n`);
    const out = process.env.STALL_PROBE_OUT;
    if (out) writeFileSync(out, JSON.stringify({ stalls, gcs }));
  });
}

start();
