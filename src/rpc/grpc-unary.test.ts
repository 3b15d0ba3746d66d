import { PassThrough } from "node:stream";
import { gunzipSync } from "node:zlib";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createContextValues,
  createMethodImplSpec,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import type { UniversalServerRequest } from "@connectrpc/connect/protocol";
import { compressionGzip } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import {
  Health,
  type HealthCheckRequest,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
  HealthCheckResponseSchema,
} from "../../gen/health/v1/health_pb.js";
import { createGrpcUnary, isPlainGrpc, type UnarySpec } from "./grpc-unary.js";

const frame = (bytes: Uint8Array, flags = 0) => {
  const out = Buffer.alloc(5 + bytes.length);
  out[0] = flags;
  out.writeUInt32BE(bytes.length, 1);
  out.set(bytes, 5);
  return out;
};
const checkFrame = (service: string) =>
  frame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service })));

function request(
  chunks: Buffer[],
  header: Record<string, string> = {},
): { req: UniversalServerRequest; body: PassThrough } {
  const body = new PassThrough();
  for (const chunk of chunks) body.write(chunk);
  body.end();
  const req: UniversalServerRequest = {
    httpVersion: "2.0",
    method: "POST",
    url: "http://localhost/grpc.health.v1.Health/Check",
    header: new Headers({ "content-type": "application/grpc", ...header }),
    body,
    signal: new AbortController().signal,
    contextValues: createContextValues(),
  };
  return { req, body };
}

async function bodyOf(res: { body: Uint8Array }): Promise<Buffer> {
  return Buffer.from(res.body);
}

// Health/Check answering SERVING for "" and refusing everything else, as a
// method whose behaviour the tests can see through the wire format alone.
function checkSpec(seen: { timeoutMs?: number | undefined } = {}): UnarySpec {
  const spec = createMethodImplSpec(
    Health.method.check,
    (req: HealthCheckRequest, ctx: HandlerContext) => {
      seen.timeoutMs = ctx.timeoutMs();
      ctx.responseHeader.set("x-seen", "yes");
      if (req.service !== "") {
        throw new ConnectError("unknown service", Code.NotFound, { "x-why": "unknown" });
      }
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
  );
  return spec as UnarySpec;
}

const options = { interceptors: [], readMaxBytes: 1024, compressions: [compressionGzip] };

describe("createGrpcUnary", () => {
  it("answers one message with the method's headers and grpc-status 0 in the trailers", async () => {
    const unary = createGrpcUnary(checkSpec(), { ...options, protocol: "grpc" });
    const { req } = request([checkFrame("")]);
    const res = await unary.invoke(req, await unary.read(req));
    expect(res.status).toBe(200);
    expect(res.header?.get("content-type")).toBe("application/grpc+proto");
    expect(res.header?.get("x-seen")).toBe("yes");
    expect(res.trailer?.get("grpc-status")).toBe("0");
    const bytes = await bodyOf(res);
    expect(bytes[0]).toBe(0);
    expect(fromBinary(HealthCheckResponseSchema, bytes.subarray(5)).status).toBe(
      HealthCheckResponse_ServingStatus.SERVING,
    );
  });

  it("puts a thrown error and its metadata in the trailers, with no message", async () => {
    const unary = createGrpcUnary(checkSpec(), { ...options, protocol: "grpc" });
    const { req } = request([checkFrame("nope")]);
    const res = await unary.invoke(req, await unary.read(req));
    expect(res.trailer?.get("grpc-status")).toBe(String(Code.NotFound));
    expect(res.trailer?.get("grpc-message")).toBe("unknown%20service");
    expect(res.trailer?.get("x-why")).toBe("unknown");
    expect((await bodyOf(res)).length).toBe(0);
  });

  it("runs the interceptors around the method, outermost first, with the parsed request", async () => {
    const order: string[] = [];
    const named =
      (name: string): Interceptor =>
      (next) =>
      async (req) => {
        order.push(`${name}:${(req.message as HealthCheckRequest).service}`);
        const res = await next(req);
        res.header.set(`x-${name}`, "1");
        return res;
      };
    const unary = createGrpcUnary(checkSpec(), {
      ...options,
      protocol: "grpc",
      interceptors: [named("outer"), named("inner")],
    });
    const { req } = request([checkFrame("")]);
    const res = await unary.invoke(req, await unary.read(req));
    expect(order).toEqual(["outer:", "inner:"]);
    expect([res.header?.get("x-outer"), res.header?.get("x-inner")]).toEqual(["1", "1"]);
  });

  it("gives the method the deadline from grpc-timeout, and refuses a malformed one unread", async () => {
    const seen: { timeoutMs?: number | undefined } = {};
    const unary = createGrpcUnary(checkSpec(seen), { ...options, protocol: "grpc" });
    const timed = request([checkFrame("")], { "grpc-timeout": "5S" }).req;
    await unary.invoke(timed, await unary.read(timed));
    expect(seen.timeoutMs).toBeGreaterThan(4_000);
    expect(seen.timeoutMs).toBeLessThanOrEqual(5_000);
    const bad = request([checkFrame("")], { "grpc-timeout": "soon" }).req;
    await expect(unary.read(bad)).rejects.toMatchObject({ code: Code.InvalidArgument });
  });

  it("compresses a large answer for a client that accepts gzip, and leaves a small one plain", async () => {
    const big = createMethodImplSpec(Health.method.check, () => {
      throw new ConnectError("x".repeat(4096), Code.NotFound);
    }) as UnarySpec;
    const web = createGrpcUnary(big, { ...options, protocol: "grpc-web" });
    const { req } = request([checkFrame("")], {
      "content-type": "application/grpc-web+proto",
      "grpc-accept-encoding": "gzip",
    });
    const res = await web.invoke(req, await web.read(req));
    expect(res.header?.get("grpc-encoding")).toBe("gzip");
    const bytes = await bodyOf(res);
    // gRPC-web: the trailers are the body's one frame, flagged and here compressed.
    expect(bytes[0]).toBe(0x80 | 1);
    const trailer = gunzipSync(bytes.subarray(5)).toString();
    expect(trailer).toContain(`grpc-status: ${Code.NotFound}`);

    const small = createGrpcUnary(checkSpec(), { ...options, protocol: "grpc" });
    const plain = request([checkFrame("")], { "grpc-accept-encoding": "gzip" }).req;
    const answer = await bodyOf(await small.invoke(plain, await small.read(plain)));
    expect(answer[0]).toBe(0);
  });

  it("answers gRPC-web with the message, then the trailers as a flagged frame", async () => {
    const unary = createGrpcUnary(checkSpec(), { ...options, protocol: "grpc-web" });
    const { req } = request([checkFrame("")], { "content-type": "application/grpc-web+proto" });
    const res = await unary.invoke(req, await unary.read(req));
    expect(res.header?.get("content-type")).toBe("application/grpc-web+proto");
    expect(res.trailer).toBeUndefined();
    const bytes = await bodyOf(res);
    const length = bytes.readUInt32BE(1);
    const trailerFrame = bytes.subarray(5 + length);
    expect(trailerFrame[0]).toBe(0x80);
    expect(trailerFrame.subarray(5).toString()).toBe("grpc-status: 0\r\n");
  });
});

describe("isPlainGrpc", () => {
  it("takes uncompressed protobuf gRPC and gRPC-web, and leaves JSON, text and compressed to Connect", () => {
    const with_ = (header: Record<string, string>) => request([], header).req;
    expect(isPlainGrpc(with_({}), "grpc")).toBe(true);
    expect(isPlainGrpc(with_({ "content-type": "application/grpc+proto" }), "grpc")).toBe(true);
    expect(isPlainGrpc(with_({ "grpc-encoding": "identity" }), "grpc")).toBe(true);
    expect(isPlainGrpc(with_({ "grpc-encoding": "gzip" }), "grpc")).toBe(false);
    expect(isPlainGrpc(with_({ "content-type": "application/grpc+json" }), "grpc")).toBe(false);
    const webProto = { "content-type": "application/grpc-web+proto" };
    expect(isPlainGrpc(with_(webProto), "grpc-web")).toBe(true);
    expect(isPlainGrpc(with_(webProto), "grpc")).toBe(false);
    const webText = { "content-type": "application/grpc-web-text" };
    expect(isPlainGrpc(with_(webText), "grpc-web")).toBe(false);
  });
});
