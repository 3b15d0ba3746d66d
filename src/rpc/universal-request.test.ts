import * as http from "node:http";
import * as http2 from "node:http2";
import { createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OtpService } from "../../gen/otp/v1/otp_pb.js";
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

// Clients of node:http and node:http2 alone, which make no AbortController of
// their own, so that every one made while they call is the server's.
async function postJson(url: string, path: string, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      { method: "POST", headers: { "content-type": "application/json" } },
      (res) => {
        res.resume();
        res.on("end", () => resolve(res.statusCode ?? 0));
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function grpcCall(session: http2.ClientHttp2Session, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": path,
      "content-type": "application/grpc",
      te: "trailers",
    });
    stream.on("trailers", (trailers) => resolve(String(trailers["grpc-status"])));
    stream.on("error", reject);
    stream.resume();
    stream.end(Buffer.from([0, 0, 0, 0, 0])); // one uncompressed, empty message
  });
}

describe("a unary call's own signal", () => {
  it("is never made when nothing reads it: no AbortController per call, over Connect JSON and gRPC", async () => {
    const session = http2.connect(server.url);
    const Real = globalThis.AbortController;
    let made = 0;
    globalThis.AbortController = class extends Real {
      constructor() {
        super();
        made++;
      }
    };
    try {
      const statuses: (number | string)[] = [];
      for (let i = 0; i < 10; i++) {
        statuses.push(await postJson(server.url, "/otp.v1.OtpService/Generate", "{}"));
        statuses.push(
          await postJson(
            server.url,
            "/otp.v1.OtpService/Verify",
            `{"id":"${crypto.randomUUID()}","code":"123456"}`,
          ),
        );
        statuses.push(await grpcCall(session, "/otp.v1.OtpService/Generate"));
      }
      expect(new Set(statuses)).toEqual(new Set([200, 404, "0"]));
      expect(made).toBe(0);
    } finally {
      globalThis.AbortController = Real;
      session.close();
    }
  });
});
