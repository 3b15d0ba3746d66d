import * as http2 from "node:http2";
import { cors, createClient } from "@connectrpc/connect";
import { connectNodeAdapter, createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/health/v1/health_pb.js";
import { createHealthService } from "../rpc/health-service.js";
import { withCors } from "./cors.js";
import { createListener, type Listener } from "./listener.js";

const allowed = "https://app.example.com";
const other = "https://evil.example.com";

let listener: Listener;
let baseUrl: string;

beforeAll(async () => {
  const health = createHealthService();
  listener = createListener({
    handler: withCors(
      connectNodeAdapter({ routes: (router) => router.service(Health, health.impl) }),
      { origins: [allowed] },
    ),
  });
  const { port } = await listener.listen(0, "127.0.0.1");
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await listener.close(100);
});

function preflight(origin: string): Promise<Response> {
  return fetch(`${baseUrl}/grpc.health.v1.Health/Check`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version,x-api-key",
    },
  });
}

function list(value: string | null): string[] {
  return (value ?? "").split(",").map((s) => s.trim().toLowerCase());
}

describe("withCors", () => {
  it("answers a preflight from an allowed origin with Connect's methods and headers", async () => {
    const res = await preflight(allowed);
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(list(res.headers.get("access-control-allow-methods"))).toEqual(
      expect.arrayContaining(cors.allowedMethods.map((m) => m.toLowerCase())),
    );
    expect(list(res.headers.get("access-control-allow-headers"))).toEqual(
      expect.arrayContaining([
        ...cors.allowedHeaders.map((h) => h.toLowerCase()),
        "x-api-key",
        "authorization",
        "traceparent",
      ]),
    );
    expect(Number(res.headers.get("access-control-max-age"))).toBeGreaterThan(0);
    expect(list(res.headers.get("vary"))).toContain("origin");
  });

  it("refuses a preflight from another origin without CORS headers", async () => {
    const res = await preflight(other);
    expect(res.status).toBe(403);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("access-control-allow-methods")).toBeNull();
  });

  it("exposes gRPC-web and Connect headers on responses to an allowed origin", async () => {
    const res = await fetch(`${baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { origin: allowed, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "SERVING" });
    expect(res.headers.get("access-control-allow-origin")).toBe(allowed);
    expect(list(res.headers.get("access-control-expose-headers"))).toEqual(
      expect.arrayContaining(cors.exposedHeaders.map((h) => h.toLowerCase())),
    );
    expect(list(res.headers.get("vary"))).toContain("origin");
  });

  it("serves other origins without CORS headers", async () => {
    const res = await fetch(`${baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { origin: other, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("adds the headers over HTTP/2 as well", async () => {
    const client = createClient(Health, createConnectTransport({ baseUrl, httpVersion: "2" }));
    let headers: Headers | undefined;
    const res = await client.check(
      { service: "" },
      { headers: { origin: allowed }, onHeader: (h) => (headers = h) },
    );
    expect(res.status).toBeDefined();
    expect(headers?.get("access-control-allow-origin")).toBe(allowed);

    const status = await new Promise<number>((resolve, reject) => {
      const session = http2.connect(baseUrl);
      session.on("error", reject);
      const stream = session.request({
        ":method": "OPTIONS",
        ":path": "/grpc.health.v1.Health/Check",
        origin: allowed,
        "access-control-request-method": "POST",
      });
      stream.on("response", (h) => {
        expect(h["access-control-allow-origin"]).toBe(allowed);
        resolve(Number(h[":status"]));
      });
      stream.on("close", () => session.close());
      stream.end();
    });
    expect(status).toBe(204);
  });

  it("allows every origin with *", async () => {
    const handler = withCors((_req, res) => res.end("ok"), { origins: ["*"] });
    const wildcard = createListener({ handler });
    const { port } = await wildcard.listen(0, "127.0.0.1");
    const res = await fetch(`http://127.0.0.1:${port}/`, {
      method: "OPTIONS",
      headers: { origin: other, "access-control-request-method": "POST" },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe(other);
    await wildcard.close(100);
  });
});
