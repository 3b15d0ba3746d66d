import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, createHandlerContext } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  Health,
  HealthCheckRequestSchema,
  HealthCheckResponse_ServingStatus,
} from "../../gen/health/v1/health_pb.js";
import { createListener, type Listener } from "../http/listener.js";
import { createHealthService, type HealthService } from "./health-service.js";

const { SERVING, NOT_SERVING } = HealthCheckResponse_ServingStatus;

const healthProto = fileURLToPath(
  new URL("../../node_modules/grpc-health-check/proto/health/v1/health.proto", import.meta.url),
);

// grpc-js speaks h2c with prior knowledge and knows nothing about Connect.
type GrpcHealthClient = grpc.Client & {
  Check(
    req: { service: string },
    callback: (err: grpc.ServiceError | null, res?: { status: string }) => void,
  ): void;
  Watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function grpcHealthClient(port: number): GrpcHealthClient {
  const definition = protoLoader.loadSync(healthProto, { enums: String });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  const Client = loaded.grpc.health.v1.Health;
  return new Client(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as GrpcHealthClient;
}

function grpcCheck(
  client: GrpcHealthClient,
  service: string,
): Promise<{ status?: string; code?: number }> {
  return new Promise((resolve) => {
    client.Check({ service }, (err, res) => {
      resolve(err ? { code: err.code } : { status: res?.status });
    });
  });
}

// Collects statuses from a grpc-js Watch stream until it ends.
function grpcWatch(client: GrpcHealthClient, service: string) {
  const call = client.Watch({ service });
  const statuses: string[] = [];
  const waiters: (() => void)[] = [];
  call.on("data", (res: { status: string }) => {
    statuses.push(res.status);
    for (const wake of waiters.splice(0)) wake();
  });
  const ended = new Promise<{ code: number }>((resolve) => {
    call.on("status", (status: grpc.StatusObject) => resolve({ code: status.code }));
    call.on("error", () => {});
  });
  const received = async (n: number) => {
    while (statuses.length < n) {
      await new Promise<void>((resolve) => waiters.push(resolve));
    }
    return statuses.slice(0, n);
  };
  return { call, statuses, received, ended };
}

describe("createHealthService", () => {
  let health: HealthService;
  let listener: Listener;
  let port: number;

  beforeAll(async () => {
    health = createHealthService();
    health.setStatus("otp.v1.OtpService", SERVING);
    listener = createListener({
      handler: connectNodeAdapter({ routes: (router) => router.service(Health, health.impl) }),
    });
    ({ port } = await listener.listen(0, "127.0.0.1"));
  });

  afterAll(async () => {
    await listener.close(100);
  });

  describe("over gRPC (grpc-js, h2c)", () => {
    it("answers Check for the server and for named services", async () => {
      const client = grpcHealthClient(port);
      expect(await grpcCheck(client, "")).toEqual({ status: "SERVING" });
      expect(await grpcCheck(client, "otp.v1.OtpService")).toEqual({ status: "SERVING" });
      client.close();
    });

    it("answers Check for an unknown service with NOT_FOUND", async () => {
      const client = grpcHealthClient(port);
      expect(await grpcCheck(client, "no.such.Service")).toEqual({
        code: grpc.status.NOT_FOUND,
      });
      client.close();
    });

    it("streams the current status and every change on Watch", async () => {
      const client = grpcHealthClient(port);
      health.setStatus("watched.Service", SERVING);
      const watch = grpcWatch(client, "watched.Service");
      expect(await watch.received(1)).toEqual(["SERVING"]);
      health.setStatus("watched.Service", SERVING); // not a change
      health.setStatus("watched.Service", NOT_SERVING);
      health.setStatus("watched.Service", SERVING);
      expect(await watch.received(3)).toEqual(["SERVING", "NOT_SERVING", "SERVING"]);
      watch.call.cancel();
      expect((await watch.ended).code).toBe(grpc.status.CANCELLED);
      client.close();
    });

    it("streams SERVICE_UNKNOWN for an unknown service and keeps the call open", async () => {
      const client = grpcHealthClient(port);
      const watch = grpcWatch(client, "later.Service");
      expect(await watch.received(1)).toEqual(["SERVICE_UNKNOWN"]);
      health.setStatus("later.Service", NOT_SERVING);
      expect(await watch.received(2)).toEqual(["SERVICE_UNKNOWN", "NOT_SERVING"]);
      watch.call.cancel();
      client.close();
    });
  });

  describe("over Connect", () => {
    for (const httpVersion of ["2", "1.1"] as const) {
      it(`answers Check and Watch over HTTP/${httpVersion}`, async () => {
        const client = createClient(
          Health,
          createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion }),
        );
        expect((await client.check({ service: "otp.v1.OtpService" })).status).toBe(SERVING);
        const err = await client.check({ service: "nope" }).catch((e: unknown) => e);
        expect(ConnectError.from(err).code).toBe(Code.NotFound);

        for await (const res of client.watch({ service: "" })) {
          expect(res.status).toBe(SERVING);
          break; // leaving the loop aborts the call
        }
      });
    }

    it("lists every known service", async () => {
      const client = createClient(
        Health,
        createConnectTransport({ baseUrl: `http://127.0.0.1:${port}`, httpVersion: "1.1" }),
      );
      const res = await client.list({});
      expect(res.statuses[""]?.status).toBe(SERVING);
      expect(res.statuses["otp.v1.OtpService"]?.status).toBe(SERVING);
    });
  });
});

describe("HealthService.shutdown", () => {
  it("sends NOT_SERVING to watchers, then ends their streams", async () => {
    const health = createHealthService();
    health.setStatus("a.Service", SERVING);
    const listener = createListener({
      handler: connectNodeAdapter({ routes: (router) => router.service(Health, health.impl) }),
    });
    const { port } = await listener.listen(0, "127.0.0.1");
    const client = grpcHealthClient(port);
    const overall = grpcWatch(client, "");
    const named = grpcWatch(client, "a.Service");
    const unknown = grpcWatch(client, "b.Service");
    await Promise.all([overall.received(1), named.received(1), unknown.received(1)]);

    health.shutdown();

    expect((await overall.ended).code).toBe(grpc.status.OK);
    expect((await named.ended).code).toBe(grpc.status.OK);
    expect((await unknown.ended).code).toBe(grpc.status.OK);
    expect(overall.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    expect(named.statuses).toEqual(["SERVING", "NOT_SERVING"]);
    expect(unknown.statuses).toEqual(["SERVICE_UNKNOWN"]);
    expect(await grpcCheck(client, "")).toEqual({ status: "NOT_SERVING" });

    // Terminal: later updates are ignored.
    health.setStatus("", SERVING);
    expect(await grpcCheck(client, "")).toEqual({ status: "NOT_SERVING" });
    client.close();
    await listener.close(100);
  });

  it("ends a Watch as soon as the client aborts", async () => {
    const health = createHealthService();
    const context = createHandlerContext({
      service: Health,
      method: Health.method.watch,
      protocolName: "grpc",
      requestMethod: "POST",
      url: "http://localhost/grpc.health.v1.Health/Watch",
    });
    const request = create(HealthCheckRequestSchema, { service: "" });
    const stream = health.impl.watch(request, context)[Symbol.asyncIterator]();
    expect((await stream.next()).value).toEqual({ status: SERVING });
    const next = stream.next();
    context.abort();
    expect((await next).done).toBe(true);
  });
});
