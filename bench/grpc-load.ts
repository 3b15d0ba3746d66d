import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./commands.js";
import { probeGrpc } from "./grpc-probe.js";
import { type LoadDriver, type LoadResult, percentile } from "./load.js";

/** How to get h2load, printed when it is missing. */
export const h2loadInstallHint =
  "h2load not found: install it with `apt-get install -y nghttp2-client` (Debian/Ubuntu); skipping the gRPC rows";

/** A gRPC message frame: a zero compression flag, the big-endian length, the protobuf bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

/**
 * Unary gRPC over h2c with h2load: one stream per connection (`-m1`), each
 * call posting the same body file. Paced runs use `--rps`, split evenly over
 * the connections. Before any load, one probe call with the same bytes must
 * come back with grpc-status 0, since h2load itself only sees HTTP statuses
 * (a gRPC error is an HTTP 200).
 */
export const grpcDriver: LoadDriver = {
  protocol: "gRPC",
  description:
    "h2load (nghttp2 1.52) over h2c, 1 thread, one stream per connection (`-m1`); paced with `--rps`, the connections opened 1 ms apart so their calls do not arrive in bursts",
  seesRpcErrors: false,
  async prepare(baseUrl, call) {
    const frame = grpcFrame(call.binary);
    const path = `/${call.procedure}`;
    const probe = await probeGrpc(baseUrl, path, frame, call.headers);
    if (probe.status !== "0") {
      throw new Error(
        `gRPC probe of ${call.procedure}: grpc-status ${probe.status} ${probe.message}`,
      );
    }
    const dir = await mkdtemp(join(tmpdir(), "otp-bench-h2load-"));
    const bodyFile = join(dir, "body.bin");
    const logFile = join(dir, "requests.log");
    await writeFile(bodyFile, frame);
    const headers = Object.entries({
      "content-type": "application/grpc",
      te: "trailers",
      ...call.headers,
    }).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
    return {
      async run({ seconds, connections, rate }) {
        await rm(logFile, { force: true });
        const { code, stdout, stderr } = await runCommand(
          "h2load",
          [
            ...["-c", String(connections), "-m", "1", "-t", "1"],
            ...h2loadShape(seconds, connections, rate),
            ...["-d", bodyFile, "--log-file", logFile],
            ...headers,
            `${baseUrl}${path}`,
          ],
          (seconds + 30) * 1000,
        );
        if (code !== 0) throw new Error(`h2load exited with ${code}:\n${stdout}\n${stderr}`);
        return parseH2load(stdout, await readFile(logFile, "utf8"));
      },
      close: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

/**
 * h2load's arguments for a window: `-D` at full speed; paced, `--rps` (whole
 * calls per second per connection) with the connections opened one a
 * millisecond (`-r 1 --rate-period 1ms`, which takes a call count, not a
 * duration). Opened all at once, every connection's rps timer fires in the
 * same instant and the calls arrive in bursts of one per connection; spread
 * over the first 50 ms, the timers fire about evenly across each period, as
 * wrk's paced script sends.
 */
export function h2loadShape(seconds: number, connections: number, rate?: number): string[] {
  if (rate === undefined) return ["-D", String(seconds)];
  const perConnection = Math.max(1, Math.round(rate / connections));
  return [
    ...["-r", "1", "--rate-period", "1ms", "--rps", String(perConnection)],
    ...["-n", String(perConnection * connections * seconds)],
  ];
}

function match(text: string, pattern: RegExp): number[] {
  const found = pattern.exec(text);
  if (found === null) throw new Error(`unexpected h2load output, no ${pattern}:\n${text}`);
  return found.slice(1).map(Number);
}

/** Reads h2load's summary, and the latency percentiles from its per-request log. */
export function parseH2load(stdout: string, log: string): LoadResult {
  const [reqPerSecond = 0] = match(stdout, /finished in [\d.]+(?:ms|s), ([\d.]+) req\/s/);
  const [, , done = 0, , failed = 0, errored = 0, timeout = 0] = match(
    stdout,
    /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/,
  );
  const [, s3xx = 0, s4xx = 0, s5xx = 0] = match(
    stdout,
    /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/,
  );
  // Each log line: start time (us since epoch), HTTP status, microseconds to the end of the response.
  const micros = log
    .split("\n")
    .map((line) => Number(line.split("\t")[2]))
    .filter((n) => Number.isFinite(n) && n >= 0)
    .sort((a, b) => a - b);
  return {
    callsPerSecond: reqPerSecond,
    calls: done,
    p50Ms: percentile(micros, 50) / 1000,
    p99Ms: percentile(micros, 99) / 1000,
    clientErrors: failed + errored + timeout + s3xx + s4xx + s5xx,
  };
}
