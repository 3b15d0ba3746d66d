import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "./commands.js";
import { probeGrpc } from "./grpc-probe.js";
import { type LoadDriver, type LoadResult, percentile } from "./load.js";

const connections = 8;
const streams = 10;

/** How to get h2load, printed when it is missing. */
export const h2loadInstallHint =
  "h2load not found: install it with `apt-get install -y nghttp2-client` (Debian/Ubuntu); skipping the gRPC scenarios";

/** A gRPC message frame: a zero compression flag, the big-endian length, the protobuf bytes. */
export function grpcFrame(message: Uint8Array): Uint8Array {
  const frame = new Uint8Array(5 + message.length);
  new DataView(frame.buffer).setUint32(1, message.length);
  frame.set(message, 5);
  return frame;
}

/**
 * Unary gRPC over h2c with h2load: 8 connections of 10 concurrent streams,
 * each call posting the same body file. Before any load, one probe call with
 * the same bytes must come back with grpc-status 0, since h2load itself only
 * sees HTTP statuses (a gRPC error is an HTTP 200).
 */
export const grpcDriver: LoadDriver = {
  protocol: "gRPC",
  description: `h2load over h2c, ${connections} connections x ${streams} streams, one body file per RPC`,
  rotatesBodies: false,
  seesRpcErrors: false,
  async prepare(baseUrl, procedure, payloads) {
    const [message, ...rest] = payloads.binary;
    if (message === undefined || rest.length > 0) {
      throw new Error("h2load sends one body: give the gRPC driver exactly one message");
    }
    const frame = grpcFrame(message);
    const path = `/${procedure}`;
    const probe = await probeGrpc(baseUrl, path, frame);
    if (probe.status !== "0") {
      throw new Error(`gRPC probe of ${procedure}: grpc-status ${probe.status} ${probe.message}`);
    }
    const dir = await mkdtemp(join(tmpdir(), "otp-bench-"));
    const bodyFile = join(dir, "body.bin");
    const logFile = join(dir, "requests.log");
    await writeFile(bodyFile, frame);
    return {
      async run(seconds) {
        await rm(logFile, { force: true });
        const { code, stdout, stderr } = await runCommand(
          "h2load",
          [
            ...["-c", String(connections), "-m", String(streams), "-t", "1"],
            ...["-D", String(seconds), "-d", bodyFile, "--log-file", logFile],
            ...["-H", "content-type: application/grpc", "-H", "te: trailers"],
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

function match(text: string, pattern: RegExp): number[] {
  const found = pattern.exec(text);
  if (found === null) throw new Error(`unexpected h2load output, no ${pattern}:\n${text}`);
  return found.slice(1).map(Number);
}

/** Reads h2load's summary, and the latency percentiles from its per-request log. */
export function parseH2load(stdout: string, log: string): LoadResult {
  const [reqPerSecond = 0] = match(stdout, /finished in [\d.]+(?:ms|s), ([\d.]+) req\/s/);
  const [total = 0, started = 0, done = 0, succeeded = 0, failed = 0, errored = 0, timeout = 0] =
    match(
      stdout,
      /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/,
    );
  const [s2xx = 0, s3xx = 0, s4xx = 0, s5xx = 0] = match(
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
    clientErrors: failed,
    detail: { total, started, done, succeeded, failed, errored, timeout, s2xx, s3xx, s4xx, s5xx },
  };
}
