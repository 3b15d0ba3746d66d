import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Health } from "../../gen/health/v1/health_pb.js";
import { createHealthService } from "../rpc/health-service.js";
import { createListener, type Listener } from "./listener.js";
import { withProbes } from "./probes.js";

let ready = true;
let metricsFail = false;
let listener: Listener;
let baseUrl: string;

beforeAll(async () => {
  const health = createHealthService();
  listener = createListener({
    handler: withProbes(
      connectNodeAdapter({ routes: (router) => router.service(Health, health.impl) }),
      {
        ready: async () => ready,
        metrics: async () => {
          if (metricsFail) {
            throw new Error("collection failed");
          }
          return {
            contentType: "text/plain; version=0.0.4; charset=utf-8",
            body: "# TYPE up gauge\nup 1\n",
          };
        },
      },
    ),
  });
  const { port } = await listener.listen(0, "127.0.0.1");
  baseUrl = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  await listener.close(100);
});

describe("withProbes", () => {
  it("answers /healthz while the process is up", async () => {
    const res = await fetch(`${baseUrl}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
  });

  it("answers /readyz from the readiness check", async () => {
    ready = true;
    const up = await fetch(`${baseUrl}/readyz`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: "ready" });

    ready = false;
    const down = await fetch(`${baseUrl}/readyz?verbose=1`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: "not_ready" });
    ready = true;
  });

  it("serves /metrics as Prometheus text", async () => {
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toContain("up 1");
  });

  it("answers 500 when metrics cannot be collected", async () => {
    metricsFail = true;
    const res = await fetch(`${baseUrl}/metrics`);
    expect(res.status).toBe(500);
    metricsFail = false;
  });

  it("passes every other request to the RPC handler", async () => {
    const rpc = await fetch(`${baseUrl}/grpc.health.v1.Health/Check`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(rpc.status).toBe(200);
    expect(await rpc.json()).toEqual({ status: "SERVING" });

    const unknown = await fetch(`${baseUrl}/nope`);
    expect(unknown.status).toBe(404);
    const postToProbe = await fetch(`${baseUrl}/healthz`, { method: "POST" });
    expect(postToProbe.status).toBe(404);
  });
});
