import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OtpService } from "../../gen/otp/v1/otp_pb.js";
import { countAbortControllers } from "../../test/support/abort-controllers.js";
import { grpcFrame, rawHttp1, rawHttp2 } from "../../test/support/raw-rpc.js";
import { startTestServer } from "../../test/support/test-server.js";
import type { RunningServer } from "../app.js";
import { linkedUnaryCalls } from "./universal-request.js";

let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server?.close();
});

describe("the shared signal of unary calls", () => {
  it("keeps no call linked once calls end, over every protocol, refused or answered", async () => {
    const transports = [
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1" }),
      createGrpcTransport({ baseUrl: server.url }),
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    ];
    for (const transport of transports) {
      const otp = createClient(OtpService, transport);
      await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const made = await otp.generate({});
          // Half answered, half refused (an unknown id), so both endings are covered.
          await otp
            .verify({ id: i % 2 === 0 ? made.id : crypto.randomUUID(), code: made.code })
            .catch(() => undefined);
        }),
      );
    }
    expect(linkedUnaryCalls()).toBe(0);
  });
});

describe("a unary call's own signal", () => {
  it("is never made when nothing reads it: no AbortController per call, over Connect JSON and gRPC", async () => {
    // Clients of node:http and node:http2 alone, which make no AbortController
    // through the global, so that every one counted is the server's.
    const json = { "content-type": "application/json" };
    const grpc = { "content-type": "application/grpc" };
    const count = countAbortControllers();
    try {
      const statuses: string[] = [];
      for (let i = 0; i < 10; i++) {
        const generate = await rawHttp1(
          server.url,
          "/otp.v1.OtpService/Generate",
          json,
          Buffer.from("{}"),
        );
        const verify = await rawHttp1(
          server.url,
          "/otp.v1.OtpService/Verify",
          json,
          Buffer.from(`{"id":"${crypto.randomUUID()}","code":"123456"}`),
        );
        const overGrpc = await rawHttp2(
          server.url,
          "/otp.v1.OtpService/Generate",
          grpc,
          grpcFrame(new Uint8Array()),
        );
        statuses.push(
          `${generate.status}`,
          `${verify.status}`,
          `grpc ${overGrpc.headers["grpc-status"]}`,
        );
      }
      expect(new Set(statuses)).toEqual(new Set(["200", "404", "grpc 0"]));
      expect(count.made()).toBe(0);
    } finally {
      count.restore();
    }
  });
});
