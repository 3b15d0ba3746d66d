import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../support/api-keys.js";
import { callJson, errorReason } from "../support/connect-json.js";
import {
  grpcFrame,
  gzipBomb,
  type RawReply,
  rawHttp1,
  rawHttp2,
  rssMiB,
} from "../support/raw-rpc.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// A production service on Redis, as its own process so its memory can be read.
let redis: RedisInstance;
let server: ServerProcess;
let key: string;
let bomb: Buffer;

const generate = "/otp.v1.OtpService/Generate";
const verify = "/otp.v1.OtpService/Verify";
const INFLATED = 256 * 1024 * 1024;
// The stated bound: the bombs and oversized bodies of this file together may
// grow the server's resident memory by at most this much (the request limit
// is 64 KiB; without it one bomb alone costs 256 MiB and more).
const RSS_GROWTH_BOUND_MIB = 80;

beforeAll(async () => {
  redis = await startRedis();
  // One process (WORKERS would default to one per CPU): its memory is what the test reads.
  server = await spawnServer({
    ...productionEnv(),
    REDIS_URL: redis.url,
    LOG_LEVEL: "info",
    WORKERS: "1",
  });
  key = await createApiKey(server.url, testAdminToken);
  bomb = await gzipBomb(INFLATED);
}, 60_000);
afterAll(async () => {
  server?.child.kill("SIGTERM");
  await server?.exited;
  await redis?.stop();
});

const bearer = () => ({ authorization: `Bearer ${key}` });
const grpcHeaders = (extra: Record<string, string> = {}) => ({
  "content-type": "application/grpc+proto",
  ...extra,
});
const grpcStatus = (reply: RawReply) => reply.headers["grpc-status"];
const jsonBody = (reply: RawReply) => JSON.parse(reply.body.toString()) as Record<string, unknown>;

/** A binary VerifyRequest whose binding is a Struct nested `depth` deep under one key. */
function verifyWithBinding(depth: number): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  const field = (tag: number, bytes: Buffer) =>
    Buffer.concat([varint((tag << 3) | 2), varint(bytes.length), bytes]);
  let struct = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) {
    // Value.struct_value = 5; map entry key = 1, value = 2; Struct.fields = 1.
    const value = field(5, struct);
    struct = field(1, Buffer.concat([field(1, Buffer.from("a")), field(2, value)]));
  }
  // VerifyRequest.id = 1, binding = 3.
  return Buffer.concat([field(1, Buffer.from("a")), field(3, struct)]);
}

describe("bounds before work", () => {
  it("refuses gzip bombs over Connect and gRPC without inflating them, and memory stays bounded", async () => {
    const before = await rssMiB(server.child.pid ?? 0);
    let peak = before;
    const sampler = setInterval(() => {
      rssMiB(server.child.pid ?? 0).then((mib) => {
        peak = Math.max(peak, mib);
      });
    }, 20);
    try {
      const connectBomb = (headers: Record<string, string>) =>
        rawHttp1(
          server.url,
          generate,
          { "content-type": "application/json", "content-encoding": "gzip", ...headers },
          bomb,
        );
      const grpcBomb = (headers: Record<string, string>) =>
        rawHttp2(server.url, generate, grpcHeaders({ "grpc-encoding": "gzip", ...headers }), [
          grpcFrame(bomb, true),
        ]);
      // Without credentials: refused from the headers, the body never read.
      const anonymous = await Promise.all([
        ...Array.from({ length: 8 }, () => connectBomb({})),
        ...Array.from({ length: 8 }, () => grpcBomb({})),
      ]);
      for (const reply of anonymous.slice(0, 8)) {
        expect([reply.status, errorReason(jsonBody(reply))]).toEqual([401, "UNAUTHENTICATED"]);
        expect(reply.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      }
      for (const reply of anonymous.slice(8)) {
        expect(grpcStatus(reply)).toBe("16");
        expect(reply.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      }
      // With a good key: inflated only up to the request limit, then refused.
      const keyed = await Promise.all([
        ...Array.from({ length: 8 }, () => connectBomb(bearer())),
        ...Array.from({ length: 8 }, () => grpcBomb(bearer())),
      ]);
      for (const reply of keyed.slice(0, 8)) {
        const body = jsonBody(reply);
        expect([body.code, errorReason(body)]).toEqual(["resource_exhausted", "REQUEST_TOO_LARGE"]);
      }
      for (const reply of keyed.slice(8)) expect(grpcStatus(reply)).toBe("8");
    } finally {
      clearInterval(sampler);
    }
    const after = await rssMiB(server.child.pid ?? 0);
    expect(peak - before).toBeLessThan(RSS_GROWTH_BOUND_MIB);
    expect(after - before).toBeLessThan(RSS_GROWTH_BOUND_MIB);
  }, 60_000);

  it("refuses a 100 MiB body by its declared length, and a chunked one at the limit", async () => {
    // Answered from the header: the service does not wait for 100 MiB.
    const declared = await rawHttp1(
      server.url,
      generate,
      {
        "content-type": "application/json",
        "content-length": String(100 * 1024 * 1024),
        ...bearer(),
      },
      null,
    );
    expect(errorReason(jsonBody(declared))).toBe("REQUEST_TOO_LARGE");
    expect(jsonBody(declared).code).toBe("resource_exhausted");
    // Without a length, it reads up to the limit and stops there.
    const chunked = await rawHttp1(
      server.url,
      generate,
      { "content-type": "application/json", "transfer-encoding": "chunked", ...bearer() },
      Buffer.alloc(64 * 1024 + 1, 0x20),
    );
    expect(errorReason(jsonBody(chunked))).toBe("REQUEST_TOO_LARGE");
  }, 60_000);
});

describe("malformed input is the caller's error", () => {
  const corpus: { name: string; headers?: Record<string, string>; frames: Buffer }[] = [
    { name: "a truncated message", frames: grpcFrame(Buffer.from([0x0a, 0x24, 0x61])) },
    { name: "an illegal wire type", frames: grpcFrame(Buffer.from([0x0f, 0x01])) },
    { name: "a compressed frame without grpc-encoding", frames: grpcFrame(Buffer.from("x"), true) },
    // Fits under the 64 KiB limit; past protobuf-es's recursion limit of 100.
    { name: "a binding Struct nested 3,000 deep", frames: grpcFrame(verifyWithBinding(3_000)) },
  ];

  it("refuses a binding Struct nested 5,000 deep by its size, unparsed", async () => {
    const reply = await rawHttp2(
      server.url,
      verify,
      grpcHeaders(bearer()),
      grpcFrame(verifyWithBinding(5_000)),
    );
    expect(grpcStatus(reply)).toBe("8");
    expect(reply.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
  });

  for (const sample of corpus) {
    it(`answers ${sample.name} over gRPC with invalid_argument and a request id`, async () => {
      const reply = await rawHttp2(server.url, verify, grpcHeaders(bearer()), sample.frames);
      expect(reply.status).toBe(200);
      expect(grpcStatus(reply)).toBe("3");
      const requestId = reply.headers["x-request-id"];
      expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
      // Logged once, without the body.
      await expect.poll(() => linesWith(requestId ?? "").length).toBe(1);
      const line = linesWith(requestId ?? "")[0] ?? "";
      expect(JSON.parse(line)).toMatchObject({
        procedure: "otp.v1.OtpService/Verify",
        status: "invalid_argument",
        reason: "REQUEST_MALFORMED",
      });
    });
  }

  it("answers the same corpus over gRPC-web and Connect binary with invalid_argument", async () => {
    for (const sample of corpus) {
      const web = await rawHttp1(
        server.url,
        verify,
        { "content-type": "application/grpc-web+proto", ...bearer() },
        sample.frames,
      );
      // gRPC-web carries its status in a trailer frame in the body.
      expect(web.body.subarray(5).toString()).toContain("grpc-status: 3");
      expect(web.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
      if (sample.name.includes("compressed")) continue; // Connect unary has no frames.
      const connect = await rawHttp1(
        server.url,
        verify,
        { "content-type": "application/proto", ...bearer() },
        sample.frames.subarray(5),
      );
      expect([connect.status, errorReason(jsonBody(connect))]).toEqual([400, "REQUEST_MALFORMED"]);
      expect(connect.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    }
  });

  it("answers an unknown encoding with unimplemented", async () => {
    const reply = await rawHttp2(
      server.url,
      verify,
      grpcHeaders({ "grpc-encoding": "snappy", ...bearer() }),
      grpcFrame(Buffer.from("x"), true),
    );
    expect(grpcStatus(reply)).toBe("12");
  });

  it("names a misspelled JSON field and refuses an unknown enum name", async () => {
    const misspelled = await callJson(
      server.url,
      "otp.v1.OtpService/Generate",
      { ttlSecondz: 5 },
      bearer(),
    );
    expect([misspelled.status, errorReason(misspelled.body)]).toEqual([400, "REQUEST_MALFORMED"]);
    expect(JSON.stringify(misspelled.body)).toContain("ttlSecondz");
    const badEnum = await callJson(
      server.url,
      "otp.v1.OtpService/Generate",
      { alphabet: "NOT_A_VALUE" },
      bearer(),
    );
    expect([badEnum.status, errorReason(badEnum.body)]).toEqual([400, "REQUEST_MALFORMED"]);
    // A wrong type in a field never echoes the value (it could be a code).
    const wrongType = await callJson(
      server.url,
      "otp.v1.OtpService/Verify",
      { id: "x", code: { secret: "424242" } },
      bearer(),
    );
    expect(wrongType.status).toBe(400);
    expect(JSON.stringify(wrongType.body)).not.toContain("424242");
  });

  it("counts refusals made before the interceptors in /metrics", async () => {
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const line = metrics
      .split("\n")
      .find(
        (l) =>
          l.startsWith("otp_rpc_duration_seconds_count") &&
          l.includes('method="otp.v1.OtpService/Verify"') &&
          l.includes('code="invalid_argument"'),
      );
    expect(Number(line?.split(" ").at(-1) ?? 0)).toBeGreaterThan(0);
  });

  it("still serves a well-formed call afterwards", async () => {
    const made = await callJson(server.url, "otp.v1.OtpService/Generate", {}, bearer());
    expect(made.status).toBe(200);
    const checked = await callJson(
      server.url,
      "otp.v1.OtpService/Verify",
      { id: made.body.id, code: made.body.code },
      bearer(),
    );
    expect(checked.body.result).toBe("VERIFY_RESULT_VERIFIED");
  });
});

describe("the gRPC and HTTP conventions outside clients expect", () => {
  it("answers an unknown gRPC method with grpc-status 12 over HTTP 200", async () => {
    const reply = await rawHttp2(
      server.url,
      "/otp.v1.OtpService/Nope",
      grpcHeaders(),
      grpcFrame(Buffer.alloc(0)),
    );
    expect([reply.status, grpcStatus(reply)]).toEqual([200, "12"]);
  });

  it("answers a GET on a method that changes state with 405 and Allow", async () => {
    const res = await fetch(`${server.url}${generate}?encoding=json&message={}`, {
      headers: bearer(),
    });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
  });
});

function linesWith(requestId: string): string[] {
  return server
    .stdout()
    .split("\n")
    .filter((l) => l.includes(requestId) && l.includes('"msg":"rpc"'));
}
