import * as http2 from "node:http2";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { grpcFrame, rawHttp2 } from "../support/raw-rpc.js";
import { startTestServer } from "../support/test-server.js";

// Server streams told apart from successes: a stream whose deadline passes
// ends with DEADLINE_EXCEEDED (the server says so, whatever the client does),
// and one whose client leaves is logged as canceled.
let server: RunningServer;
const lines: Record<string, unknown>[] = [];

beforeAll(async () => {
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line !== "") lines.push(JSON.parse(line));
  });
  server = await startTestServer({}, { logger: createLogger("info", sink) });
});
afterAll(async () => {
  await server?.close();
});

const rpcLines = (procedure: string) =>
  lines.filter((l) => l.msg === "rpc" && l.procedure === procedure);

// An empty HealthCheckRequest: the overall status, which stays SERVING.
const watchHealth = grpcFrame(Buffer.alloc(0));

describe("server streams", () => {
  it("end with deadline_exceeded when the deadline passes (Health/Watch, grpc-timeout)", async () => {
    const reply = await rawHttp2(
      server.url,
      "/grpc.health.v1.Health/Watch",
      { "content-type": "application/grpc", "grpc-timeout": "300m" },
      watchHealth,
    );
    expect(reply.headers["grpc-status"]).toBe("4");
    await expect
      .poll(() => rpcLines("grpc.health.v1.Health/Watch").map((l) => l.status))
      .toContain("deadline_exceeded");
  });

  it("are logged as canceled when the client goes away", async () => {
    const session = http2.connect(server.url);
    const stream = session.request({
      ":method": "POST",
      ":path": "/grpc.health.v1.Health/Watch",
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.end(watchHealth);
    // The first status arrives, then the client leaves without a word.
    await new Promise<void>((resolve) => stream.once("data", () => resolve()));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    session.close();
    await expect
      .poll(() => rpcLines("grpc.health.v1.Health/Watch").map((l) => l.status))
      .toContain("canceled");
    expect(rpcLines("grpc.health.v1.Health/Watch").map((l) => l.status)).not.toContain("ok");
  });
});
