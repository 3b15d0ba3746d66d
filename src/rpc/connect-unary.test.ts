import { gunzipSync } from "node:zlib";
import { create, type JsonValue, toBinary } from "@bufbuild/protobuf";
import {
  Code,
  ConnectError,
  createConnectRouter,
  createContextValues,
  createMethodImplSpec,
  type HandlerContext,
  type Interceptor,
} from "@connectrpc/connect";
import {
  readAllBytes,
  type UniversalServerRequest,
  type UniversalServerResponse,
} from "@connectrpc/connect/protocol";
import { compressionGzip } from "@connectrpc/connect-node";
import { describe, expect, it } from "vitest";
import {
  Health,
  type HealthCheckRequest,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
} from "../../gen/health/v1/health_pb.js";
import { createConnectUnary, plainConnectFormat } from "./connect-unary.js";
import type { UnarySpec } from "./grpc-unary.js";
import type { WholeResponse } from "./whole-response.js";

// Health/Check: SERVING for "", a NotFound with metadata for "nope", a long
// error for "long" (compressible), and a header and a trailer on every answer.
function checkSpec(seen: { timeoutMs?: number | undefined } = {}): UnarySpec {
  return createMethodImplSpec(
    Health.method.check,
    (req: HealthCheckRequest, ctx: HandlerContext) => {
      seen.timeoutMs = ctx.timeoutMs();
      ctx.responseHeader.set("x-seen", "yes");
      ctx.responseTrailer.set("x-after", "done");
      if (req.service === "long") throw new ConnectError("x".repeat(4096), Code.NotFound);
      if (req.service !== "") {
        throw new ConnectError("unknown service", Code.NotFound, { "x-why": "unknown" });
      }
      return { status: HealthCheckResponse_ServingStatus.SERVING };
    },
  ) as UnarySpec;
}

const jsonOptions = { ignoreUnknownFields: false };
const options = {
  interceptors: [] as Interceptor[],
  readMaxBytes: 1024,
  compressions: [compressionGzip],
  jsonOptions,
};

function request(
  body: Uint8Array,
  header: Record<string, string> = {},
  method = "POST",
): UniversalServerRequest {
  return {
    httpVersion: "1.1",
    method,
    url: "http://localhost/grpc.health.v1.Health/Check",
    header: new Headers({ "content-type": "application/json", ...header }),
    body: body as unknown as JsonValue,
    signal: new AbortController().signal,
    contextValues: createContextValues(),
  };
}

// The body as the RPC handler passes it: read whole.
const bytesOf = (req: UniversalServerRequest) => req.body as unknown as Uint8Array;
// The codec the RPC handler would pick for the request (these tests send only plain ones).
function formatOf(req: UniversalServerRequest) {
  const format = plainConnectFormat(req);
  if (format === undefined) throw new Error("not a plain Connect unary request");
  return format;
}
const json = (text: string) => new TextEncoder().encode(text);
const proto = (service: string) =>
  toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service }));

// The same call through Connect's own handler, the reference for the wire format.
async function throughConnect(
  spec: UnarySpec,
  req: UniversalServerRequest,
): Promise<{ status: number; header: Headers; body: Buffer }> {
  const router = createConnectRouter({
    readMaxBytes: 1024,
    acceptCompression: [compressionGzip],
    jsonOptions,
  });
  router.rpc(spec.method, spec.impl as never);
  const handler = router.handlers.find((h) => h.protocolNames.includes("connect"));
  if (handler === undefined) throw new Error("no Connect handler");
  const res: UniversalServerResponse = await handler(req);
  const bytes =
    res.body === undefined ? new Uint8Array() : await readAllBytes(res.body as never, 1 << 20);
  return { status: res.status, header: new Headers(res.header), body: Buffer.from(bytes) };
}

async function direct(spec: UnarySpec, req: UniversalServerRequest): Promise<WholeResponse> {
  const unary = createConnectUnary(spec, options);
  return unary.invoke(req, unary.read(req, bytesOf(req), formatOf(req)));
}

function headersOf(header: Headers): Record<string, string> {
  return Object.fromEntries([...header.entries()].sort());
}

describe("createConnectUnary", () => {
  const cases: [string, () => UniversalServerRequest][] = [
    ["a JSON call", () => request(json("{}"))],
    [
      "a JSON call with a charset",
      () => request(json("{}"), { "content-type": "application/json; charset=utf-8" }),
    ],
    ["a protobuf call", () => request(proto(""), { "content-type": "application/proto" })],
    ["a refused JSON call", () => request(json('{"service":"nope"}'))],
    [
      "a refused protobuf call",
      () => request(proto("nope"), { "content-type": "application/proto" }),
    ],
    [
      "a large error to a gzip client",
      () => request(json('{"service":"long"}'), { "accept-encoding": "gzip" }),
    ],
    ["a small answer to a gzip client", () => request(json("{}"), { "accept-encoding": "gzip" })],
  ];
  for (const [name, make] of cases) {
    it(`answers ${name} byte for byte as Connect's handler does`, async () => {
      const spec = checkSpec();
      const reference = await throughConnect(spec, make());
      const ours = await direct(spec, make());
      expect(ours.status).toBe(reference.status);
      expect(headersOf(ours.header)).toEqual(headersOf(reference.header));
      expect(Buffer.from(ours.body)).toEqual(reference.body);
    });
  }

  it("answers a refusal with its HTTP status, a JSON error and the metadata as headers", async () => {
    const res = await direct(checkSpec(), request(json('{"service":"nope"}')));
    expect(res.status).toBe(404);
    expect(res.header.get("content-type")).toBe("application/json");
    expect(res.header.get("x-why")).toBe("unknown");
    expect(res.header.get("trailer-x-after")).toBe("done");
    expect(JSON.parse(Buffer.from(res.body).toString())).toEqual({
      code: "not_found",
      message: "unknown service",
    });
  });

  it("compresses a large answer for a client that accepts gzip", async () => {
    const res = await direct(
      checkSpec(),
      request(json('{"service":"long"}'), { "accept-encoding": "gzip" }),
    );
    expect(res.header.get("content-encoding")).toBe("gzip");
    expect(res.header.get("content-length")).toBe(String(res.body.byteLength));
    expect(JSON.parse(gunzipSync(res.body).toString()).message).toHaveLength(4096);
  });

  it("runs the interceptors around the method with the parsed request", async () => {
    const seen: string[] = [];
    const spy: Interceptor = (next) => async (req) => {
      seen.push(
        `${req.method.name}:${(req.message as HealthCheckRequest).service}:${req.requestMethod}`,
      );
      return next(req);
    };
    const unary = createConnectUnary(checkSpec(), { ...options, interceptors: [spy] });
    const req = request(json('{"service":""}'));
    await unary.invoke(req, unary.read(req, bytesOf(req), formatOf(req)));
    expect(seen).toEqual(["Check::POST"]);
  });

  it("gives the method the deadline from connect-timeout-ms", async () => {
    const seen: { timeoutMs?: number | undefined } = {};
    await direct(checkSpec(seen), request(json("{}"), { "connect-timeout-ms": "5000" }));
    expect(seen.timeoutMs).toBeGreaterThan(4_000);
    expect(seen.timeoutMs).toBeLessThanOrEqual(5_000);
  });

  it("refuses, before anything runs, an unknown field, a body that is not JSON and a malformed deadline", () => {
    const unary = createConnectUnary(checkSpec(), options);
    const read = (req: UniversalServerRequest) => () =>
      unary.read(req, bytesOf(req), formatOf(req));
    expect(read(request(json('{"servise":""}')))).toThrow(/servise/);
    expect(read(request(json("{")))).toThrow(ConnectError);
    expect(read(request(json("{}"), { "connect-timeout-ms": "soon" }))).toThrow(ConnectError);
    try {
      read(request(json('{"servise":""}')))();
    } catch (err) {
      expect(ConnectError.from(err).code).toBe(Code.InvalidArgument);
    }
  });
});

describe("plainConnectFormat", () => {
  it("takes uncompressed unary JSON and protobuf POSTs, and leaves GET, compressed bodies and streams to Connect", () => {
    const body = json("{}");
    expect(plainConnectFormat(request(body))).toBe("json");
    expect(plainConnectFormat(request(body, { "content-type": "application/proto" }))).toBe(
      "proto",
    );
    expect(plainConnectFormat(request(body, {}, "GET"))).toBeUndefined();
    expect(plainConnectFormat(request(body, { "content-encoding": "gzip" }))).toBeUndefined();
    expect(
      plainConnectFormat(request(body, { "content-type": "application/connect+json" })),
    ).toBeUndefined();
    expect(plainConnectFormat(request(body, { "content-type": "text/plain" }))).toBeUndefined();
  });
});
