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
