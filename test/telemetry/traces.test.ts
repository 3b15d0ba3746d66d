import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import type { InMemorySpanExporter } from "@opentelemetry/sdk-trace-base";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { OtpService } from "../../gen/otp/v1/otp_pb.js";
import type { RunningServer } from "../../src/app.js";
import { callJson } from "../support/connect-json.js";
import { type OtlpCollector, startOtlpCollector, waitForSpans } from "../support/otlp-collector.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { startTestServer } from "../support/test-server.js";
import { createClientSpanInterceptor, installInMemoryTracing } from "../support/traced-client.js";

let exporter: InMemorySpanExporter;
beforeAll(() => {
  exporter = installInMemoryTracing();
});

const transports: Record<string, (url: string) => Transport> = {
  gRPC: (baseUrl) =>
    createGrpcTransport({ baseUrl, interceptors: [createClientSpanInterceptor()] }),
  "gRPC-web": (baseUrl) =>
    createGrpcWebTransport({
      baseUrl,
      httpVersion: "1.1",
      interceptors: [createClientSpanInterceptor()],
    }),
  Connect: (baseUrl) =>
    createConnectTransport({
      baseUrl,
      httpVersion: "1.1",
      interceptors: [createClientSpanInterceptor()],
    }),
};

describe("server spans, in-process with the in-memory exporter", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(async () => {
    await server.close();
  });
  beforeEach(() => exporter.reset());

  for (const [name, transport] of Object.entries(transports)) {
    it(`makes one server span per RPC over ${name}, the child of the caller's span`, async () => {
      const client = createClient(OtpService, transport(server.url));
      await client.generate({});
      const spans = exporter.getFinishedSpans();
      const clientSpan = spans.find((s) => s.kind === SpanKind.CLIENT);
      const serverSpans = spans.filter((s) => s.kind === SpanKind.SERVER);
      expect(serverSpans).toHaveLength(1);
      const serverSpan = serverSpans[0];
      expect(serverSpan?.name).toBe("otp.v1.OtpService/Generate");
      expect(serverSpan?.spanContext().traceId).toBe(clientSpan?.spanContext().traceId);
      expect(serverSpan?.parentSpanContext?.spanId).toBe(clientSpan?.spanContext().spanId);
      expect(serverSpan?.attributes).toMatchObject({
        "rpc.service": "otp.v1.OtpService",
        "rpc.method": "Generate",
        "rpc.connect_rpc.error_code": "ok",
      });
      expect(serverSpan?.status.code).not.toBe(SpanStatusCode.ERROR);
    });
  }

  it("marks a failed call's span with the error status and the Connect code", async () => {
    const client = createClient(
      OtpService,
      (transports.Connect as (url: string) => Transport)(server.url),
    );
    const err = await client
      .getChallenge({ id: crypto.randomUUID() })
      .catch((e: unknown) => ConnectError.from(e));
    expect(err).toBeInstanceOf(ConnectError);
    expect((err as ConnectError).code).toBe(Code.NotFound);
    const serverSpan = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(serverSpan?.status.code).toBe(SpanStatusCode.ERROR);
    expect(serverSpan?.attributes["rpc.connect_rpc.error_code"]).toBe("not_found");
    expect(serverSpan?.attributes["rpc.grpc.status_code"]).toBe(Code.NotFound);
  });

  it("honours a traceparent sent by hand", async () => {
    const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
    await callJson(
      server.url,
      "otp.v1.OtpService/Generate",
      {},
      {
        traceparent: `00-${traceId}-00f067aa0ba902b7-01`,
      },
    );
    const serverSpan = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(serverSpan?.spanContext().traceId).toBe(traceId);
    expect(serverSpan?.parentSpanContext?.spanId).toBe("00f067aa0ba902b7");
  });
});

describe("one trace from client to Redis, through the real process and OTLP", () => {
  let redis: RedisInstance;
  let collector: OtlpCollector;
  let server: ServerProcess;
  beforeAll(async () => {
    [redis, collector] = await Promise.all([startRedis(), startOtlpCollector()]);
    server = await spawnServer({
      REDIS_URL: redis.url,
      OTP_HMAC_SECRET: "t".repeat(40),
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      LOG_LEVEL: "warn",
    });
  });
  afterAll(async () => {
    server?.child.kill("SIGTERM");
    await server?.exited;
    await Promise.all([redis?.stop(), collector?.close()]);
  });
  beforeEach(() => exporter.reset());

  for (const name of ["gRPC", "Connect"]) {
    it(`puts the client span, the server span and its Redis spans in one tree over ${name}`, async () => {
      const client = createClient(
        OtpService,
        (transports[name] as (url: string) => Transport)(server.url),
      );
      const gen = await client.generate({});
      await client.verify({ id: gen.id, code: gen.code });
      const clientSpans = exporter.getFinishedSpans().filter((s) => s.kind === SpanKind.CLIENT);
      expect(clientSpans).toHaveLength(2);
      for (const clientSpan of clientSpans) {
        const traceId = clientSpan.spanContext().traceId;
        const spans = await waitForSpans(collector, (all) =>
          all.some((s) => s.traceId === traceId && s.scope.includes("ioredis")),
        );
        const inTrace = spans.filter((s) => s.traceId === traceId);
        const serverSpan = inTrace.find((s) => s.kind === 2);
        expect(serverSpan?.parentSpanId).toBe(clientSpan.spanContext().spanId);
        const redisSpans = inTrace.filter((s) => s.scope.includes("ioredis"));
        expect(redisSpans.length).toBeGreaterThan(0);
        for (const r of redisSpans) expect(r.parentSpanId).toBe(serverSpan?.spanId);
      }
    });
  }
});
