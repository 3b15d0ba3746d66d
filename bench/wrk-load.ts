import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./commands.js";
import type { LoadCall, LoadDriver, LoadResult } from "./load.js";

/** How to get wrk, printed when it is missing. */
export const wrkInstallHint =
  "wrk not found: install it with `apt-get install -y wrk` (Debian/Ubuntu); skipping the Connect JSON rows";

const marker = "BENCH_RESULT";

/** A Lua long string that cannot be closed by the text inside it. */
function luaString(text: string): string {
  let eq = "=";
  while (text.includes(`]${eq}]`)) eq += "=";
  return `[${eq}[${text}]${eq}]`;
}

/**
 * The wrk script: POSTs `call.json` with the Connect headers and prints the
 * result as one JSON line from `done()`, with wrk's own microsecond
 * percentiles. With an interval, `delay()` paces the thread's connections to
 * one call per interval: each call takes the next slot of one shared
 * schedule (LuaJIT's ffi reads CLOCK_MONOTONIC, since wrk's Lua has no
 * millisecond clock), so the rate holds whatever the latency, as long as
 * some connection is free. wrk rounds delays to whole milliseconds; the
 * schedule absorbs that.
 */
export function wrkScript(call: LoadCall, intervalMs: number): string {
  const headers = {
    "content-type": "application/json",
    "connect-protocol-version": "1",
    ...call.headers,
  };
  return `wrk.method = "POST"
wrk.body = ${luaString(call.json)}
${Object.entries(headers)
  .map(([k, v]) => `wrk.headers[ ${luaString(k)} ] = ${luaString(v)}`)
  .join("\n")}
local interval = ${intervalMs}
if interval > 0 then
  local ffi = require("ffi")
  ffi.cdef[[ typedef struct { long tv_sec; long tv_nsec; } bench_ts; int clock_gettime(int, bench_ts *); ]]
  local ts = ffi.new("bench_ts")
  local function now_ms()
    ffi.C.clock_gettime(1, ts)
    return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
  end
  local next_slot = nil
  delay = function()
    local now = now_ms()
    if next_slot == nil then next_slot = now end
    next_slot = next_slot + interval
    local wait = next_slot - now
    if wait < 0 then return 0 end
    return math.floor(wait)
  end
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${marker} {"calls":%d,"durationUs":%d,"p50Us":%d,"p99Us":%d,"non2xx":%d,"socketErrors":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect + e.read + e.write + e.timeout))
end
`;
}

/** Reads the JSON line the script's `done()` printed. */
export function parseWrk(stdout: string): LoadResult {
  const line = stdout.split("\n").find((l) => l.startsWith(`${marker} `));
  if (line === undefined) throw new Error(`no result line in wrk's output:\n${stdout}`);
  const r = JSON.parse(line.slice(marker.length + 1)) as Record<string, number>;
  const calls = r.calls ?? 0;
  return {
    calls,
    callsPerSecond: calls / ((r.durationUs ?? 1) / 1e6),
    p50Ms: (r.p50Us ?? Number.NaN) / 1000,
    p99Ms: (r.p99Us ?? Number.NaN) / 1000,
    clientErrors: (r.non2xx ?? 0) + (r.socketErrors ?? 0),
  };
}

/** Connect JSON over HTTP/1.1 keep-alive with wrk, one thread. */
export const wrkDriver: LoadDriver = {
  protocol: "Connect JSON",
  description: "wrk 4.1 over HTTP/1.1 keep-alive, 1 thread, a Lua script for the POST body",
  seesRpcErrors: true,
  async prepare(baseUrl, call) {
    const url = `${baseUrl}/${call.procedure}`;
    const probe = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...call.headers },
      body: call.json,
    });
    if (!probe.ok) {
      throw new Error(`probe of ${call.procedure}: HTTP ${probe.status} ${await probe.text()}`);
    }
    await probe.arrayBuffer().catch(() => undefined);
    const dir = await mkdtemp(join(tmpdir(), "otp-bench-wrk-"));
    return {
      async run({ seconds, connections, rate }) {
        const script = join(dir, `call-${Date.now()}.lua`);
        await writeFile(script, wrkScript(call, rate === undefined ? 0 : 1000 / rate));
        const { code, stdout, stderr } = await runCommand(
          "wrk",
          ["-t1", `-c${connections}`, `-d${seconds}s`, "--timeout", "10s", "-s", script, url],
          (seconds + 30) * 1000,
        );
        if (code !== 0) throw new Error(`wrk exited with ${code}:\n${stdout}\n${stderr}`);
        return parseWrk(stdout);
      },
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
};
