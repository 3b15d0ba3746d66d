import * as http from "node:http";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { describe, expect, it } from "vitest";
import { run, spawnServer } from "../support/spawn-server.js";

const buf = "node_modules/.bin/buf";

describe("the service as a process", () => {
  it("starts with no configuration, says it is a development set-up, and serves buf curl through reflection", async () => {
    const server = await spawnServer({ SHUTDOWN_GRACE_SECONDS: "2" });
    try {
      const banner = server.stdout();
      expect(banner).toContain("DEVELOPMENT CONFIGURATION");
      expect(banner).toMatch(/store\s+memory/);
      expect(banner).toMatch(/channels\s+outbox/);
      expect(banner).toMatch(/gRPC.*gRPC-web.*Connect/);

      const listed = await run(buf, [
        "curl",
        "--http2-prior-knowledge",
        "--protocol",
        "grpc",
        "--list-services",
        server.url,
      ]);
      expect(listed.stdout.split("\n")).toEqual(
        expect.arrayContaining([
          "otp.v1.OtpService",
          "otp.v1.DeliveryService",
          "grpc.health.v1.Health",
        ]),
      );
      const generated = await run(buf, [
        "curl",
        "--http2-prior-knowledge",
        "--protocol",
        "grpc",
        "-d",
        '{"codeLength": 9}',
        `${server.url}/otp.v1.OtpService/Generate`,
      ]);
      expect(generated.code).toBe(0);
      expect(JSON.parse(generated.stdout).code).toMatch(/^\d{9}$/);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  });

  it("drains on SIGTERM: calls in flight finish, watchers see NOT_SERVING, and the process exits 0 in time", async () => {
    const server = await spawnServer({ SHUTDOWN_GRACE_SECONDS: "2" });
    const definition = protoLoader.loadSync("health/v1/health.proto", {
      includeDirs: ["node_modules/grpc-health-check/proto"],
      enums: String,
    });
    const { grpc: g } = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const health = new g.health.v1.Health(
      `127.0.0.1:${server.port}`,
      grpc.credentials.createInsecure(),
    );
    const statuses: string[] = [];
    const watch = (
      health as unknown as { Watch(req: object): grpc.ClientReadableStream<{ status: string }> }
    ).Watch({
      service: "",
    });
    watch.on("data", (m: { status: string }) => statuses.push(m.status));
    watch.on("error", () => {});
    await new Promise((r) => setTimeout(r, 200));
    expect(statuses).toEqual(["SERVING"]);

    // A call in flight when the signal arrives: headers and half the body sent now, the rest later.
    const body = JSON.stringify({ codeLength: 7 });
    const request = http.request(`${server.url}/otp.v1.OtpService/Generate`, {
      method: "POST",
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      request.on("response", (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      request.on("error", reject);
    });
    request.write(body.slice(0, 5));
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    server.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 300));
    request.end(body.slice(5));
    const answered = await response;
    const code = await server.exited;
    const elapsed = Date.now() - started;
    health.close();
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body).code).toMatch(/^\d{7}$/);
    expect(code).toBe(0);
    expect(statuses).toContain("NOT_SERVING");
    // Bounded: the grace period plus start-up of the exit path, not a hang.
    // The service backs itself up by exiting at grace + 5 s; allow a loaded machine a little more.
    expect(elapsed).toBeLessThan(2_000 + 8_000);
  });

  it("refuses to start in production without OTP_HMAC_SECRET, naming the variable", async () => {
    const failed = await spawnServer({ NODE_ENV: "production" }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/exited with 78/);
    expect(failed).toContain("OTP_HMAC_SECRET");
  });

  it("refuses the outbox in production", async () => {
    const failed = await spawnServer({
      NODE_ENV: "production",
      OTP_HMAC_SECRET: "x".repeat(40),
      DEV_OUTBOX: "true",
    }).then(
      () => undefined,
      (err: Error) => err.message,
    );
    expect(failed).toContain("DEV_OUTBOX");
  });
});
