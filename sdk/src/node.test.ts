import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { context, propagation, type TextMapPropagator } from "@opentelemetry/api";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceEndpoint, startServiceForClients } from "../../test/support/test-server.js";
import {
  Channel,
  Code,
  createDeliveryClient,
  createOtpClient,
  createTransport,
  isOtpError,
  type NodeProtocol,
  OtpError,
  VerifyResult,
} from "./node.js";

let server: ServiceEndpoint;

beforeAll(async () => {
  server = await startServiceForClients();
});
afterAll(async () => {
  await server?.close();
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error("expected the call to fail");
    },
    (err: unknown) => err,
  );
}

describe("the Node clients against the service", () => {
  for (const protocol of ["grpc", "grpc-web", "connect"] as const satisfies NodeProtocol[]) {
    it(`delivers, verifies once and types errors over ${protocol}`, async () => {
      const transport = createTransport({ baseUrl: server.url, protocol });
      const otp = createOtpClient(transport);
      const delivery = createDeliveryClient(transport);
      const recipient = `${protocol}@example.com`;
      const { id } = await otp.generate({
        deliveryTargets: [{ channel: Channel.EMAIL, recipient }],
      });
      const [message] = (await delivery.listOutbox({ challengeId: id })).messages;
      const code = /\b(\d{6})\b/.exec(message?.text ?? "")?.[1] ?? "";
      expect((await otp.verify({ id, code: "000000" === code ? "111111" : "000000" })).result).toBe(
        VerifyResult.INVALID_CODE,
      );
      expect((await otp.verify({ id, code })).result).toBe(VerifyResult.VERIFIED);

      const err = await rejection(otp.resend({ id }));
      expect(err).toBeInstanceOf(OtpError);
      expect(isOtpError(err, "CHALLENGE_NOT_PENDING")).toBe(true);
      expect((err as OtpError).code).toBe(Code.FailedPrecondition);
    });
  }

  it("reads the retry delay of a rate limit", async () => {
    const limited = await startServiceForClients({ RATE_LIMIT_GENERATE_PER_IP: "1/1m" });
    try {
      const otp = createOtpClient({ baseUrl: limited.url, protocol: "grpc" });
      await otp.generate({});
      const err = await rejection(otp.generate({}));
      if (!isOtpError(err, "RATE_LIMITED")) throw err;
      expect(err.code).toBe(Code.ResourceExhausted);
      expect(err.retryDelayMs).toBeGreaterThan(0);
      expect(err.retryDelayMs).toBeLessThanOrEqual(60_000);
    } finally {
      await limited.close();
    }
  });
});

describe("headers and deadlines", () => {
  let fake: http.Server;
  let fakeUrl: string;
  let lastHeaders: http.IncomingHttpHeaders = {};
  beforeAll(async () => {
    // Answers every Connect call with an empty message, or never for /hang.
    fake = http.createServer((req, res) => {
      lastHeaders = req.headers;
      if (req.url?.endsWith("/Cancel")) return; // never answers
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end("{}");
      });
    });
    await new Promise<void>((resolve) => fake.listen(0, "127.0.0.1", resolve));
    fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    fake.closeAllConnections();
    await new Promise((resolve) => fake.close(resolve));
  });

  it("sends the API key as a bearer token", async () => {
    const otp = createOtpClient({ baseUrl: fakeUrl, protocol: "connect", apiKey: "k_live_123" });
    await otp.getChallenge({ id: "x" });
    expect(lastHeaders.authorization).toBe("Bearer k_live_123");
  });

  it("sends no authorization header without an API key", async () => {
    await createOtpClient({ baseUrl: fakeUrl, protocol: "connect" }).getChallenge({ id: "x" });
    expect(lastHeaders.authorization).toBeUndefined();
  });

  it("injects the trace context through @opentelemetry/api when it is registered", async () => {
    const propagator: TextMapPropagator = {
      inject(_ctx, carrier, setter) {
        setter.set(
          carrier,
          "traceparent",
          "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        );
      },
      extract: (ctx) => ctx,
      fields: () => ["traceparent"],
    };
    propagation.setGlobalPropagator(propagator);
    try {
      await createOtpClient({ baseUrl: fakeUrl, protocol: "connect" }).getChallenge({ id: "x" });
      expect(lastHeaders.traceparent).toBe(
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
      );
      await createOtpClient({
        baseUrl: fakeUrl,
        protocol: "connect",
        tracePropagation: false,
      }).getChallenge({ id: "x" });
      expect(lastHeaders.traceparent).toBeUndefined();
    } finally {
      propagation.disable();
    }
  });

  it("uses an OpenTelemetry API passed in", async () => {
    const otp = createOtpClient({
      baseUrl: fakeUrl,
      protocol: "connect",
      tracePropagation: {
        api: {
          context,
          propagation: {
            inject: (_ctx, carrier, setter) => setter.set(carrier, "tracestate", "vendor=1"),
          },
        },
      },
    });
    await otp.getChallenge({ id: "x" });
    expect(lastHeaders.tracestate).toBe("vendor=1");
  });

  it("ends a call at its deadline with deadline_exceeded", async () => {
    const otp = createOtpClient({ baseUrl: fakeUrl, protocol: "connect", timeoutMs: 100 });
    const err = await rejection(otp.cancel({ id: "x" }));
    expect(isOtpError(err)).toBe(true);
    expect((err as OtpError).code).toBe(Code.DeadlineExceeded);
    expect((err as OtpError).reason).toBeUndefined();
  });

  it("lets a call set its own deadline", async () => {
    const otp = createOtpClient({ baseUrl: fakeUrl, protocol: "connect", timeoutMs: 60_000 });
    const err = await rejection(otp.cancel({ id: "x" }, { timeoutMs: 50 }));
    expect((err as OtpError).code).toBe(Code.DeadlineExceeded);
  });
});

describe("options", () => {
  it("rejects a missing baseUrl and an unknown protocol", () => {
    expect(() => createOtpClient({ baseUrl: "", protocol: "grpc" })).toThrow(TypeError);
    expect(() =>
      createOtpClient({ baseUrl: "http://x", protocol: "http3" as NodeProtocol }),
    ).toThrow(/protocol/);
    expect(() => createOtpClient({ baseUrl: "http://x", protocol: "grpc", timeoutMs: -1 })).toThrow(
      /timeoutMs/,
    );
    expect(() =>
      createOtpClient({ baseUrl: "http://x", protocol: "grpc", apiKey: "a\nb" }),
    ).toThrow(/apiKey/);
  });
});
