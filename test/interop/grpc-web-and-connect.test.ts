import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import {
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import {
  GenerateRequestSchema,
  GenerateResponseSchema,
  OtpService,
  VerifyResult,
} from "../../gen/otp/v1/otp_pb.js";
import type { RunningServer } from "../../src/app.js";
import { startTestServer } from "../support/test-server.js";

let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

/** Frames one gRPC-web message: a flag byte, a 4-byte big-endian length, the bytes. */
function frame(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  new DataView(out.buffer).setUint32(1, payload.length);
  out.set(payload, 5);
  return out;
}

/** Splits a gRPC-web response body into its message and its trailers. */
function unframe(body: Uint8Array): { message?: Uint8Array; trailers: Record<string, string> } {
  const result: { message?: Uint8Array; trailers: Record<string, string> } = { trailers: {} };
  let offset = 0;
  while (offset + 5 <= body.length) {
    const flag = body[offset] ?? 0;
    const length = new DataView(body.buffer, body.byteOffset + offset + 1, 4).getUint32(0);
    const data = body.subarray(offset + 5, offset + 5 + length);
    if ((flag & 0x80) !== 0) {
      for (const line of new TextDecoder().decode(data).split("\r\n")) {
        const i = line.indexOf(":");
        if (i > 0)
          result.trailers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
    } else {
      result.message = data;
    }
    offset += 5 + length;
  }
  return result;
}

describe("gRPC-web over HTTP/1.1, framed by hand", () => {
  it("generates a challenge and ends with grpc-status 0 in the body trailers", async () => {
    const res = await fetch(`${server.url}/otp.v1.OtpService/Generate`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto", "x-grpc-web": "1" },
      body: frame(
        toBinary(GenerateRequestSchema, create(GenerateRequestSchema, { codeLength: 5 })),
      ),
    });
    expect(res.status).toBe(200);
    const { message, trailers } = unframe(new Uint8Array(await res.arrayBuffer()));
    expect(trailers["grpc-status"]).toBe("0");
    expect(fromBinary(GenerateResponseSchema, message ?? new Uint8Array()).code).toMatch(/^\d{5}$/);
  });

  it("carries an error's status and details in the trailers", async () => {
    const res = await fetch(`${server.url}/otp.v1.OtpService/Generate`, {
      method: "POST",
      headers: { "content-type": "application/grpc-web+proto" },
      body: frame(
        toBinary(GenerateRequestSchema, create(GenerateRequestSchema, { maxAttempts: 99 })),
      ),
    });
    const headersOrTrailers: Record<string, string> = {
      ...Object.fromEntries(res.headers),
      ...unframe(new Uint8Array(await res.arrayBuffer())).trailers,
    };
    expect(headersOrTrailers["grpc-status"]).toBe(String(Code.InvalidArgument));
    expect(headersOrTrailers["grpc-status-details-bin"]).toBeTruthy();
  });
});

describe("the same handlers over every transport", () => {
  const transports = {
    "gRPC-web over HTTP/1.1": () =>
      createGrpcWebTransport({ baseUrl: server.url, httpVersion: "1.1" }),
    "gRPC-web over HTTP/2": () => createGrpcWebTransport({ baseUrl: server.url, httpVersion: "2" }),
    "Connect binary over HTTP/1.1": () =>
      createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", useBinaryFormat: true }),
    "Connect JSON over HTTP/2": () =>
      createConnectTransport({ baseUrl: server.url, httpVersion: "2" }),
    "gRPC over HTTP/2": () => createGrpcTransport({ baseUrl: server.url }),
  };

  for (const [name, transport] of Object.entries(transports)) {
    it(`verifies a code once and reads error details over ${name}`, async () => {
      const client = createClient(OtpService, transport());
      const gen = await client.generate({});
      expect((await client.verify({ id: gen.id, code: gen.code })).result).toBe(
        VerifyResult.VERIFIED,
      );
      expect((await client.verify({ id: gen.id, code: gen.code })).result).toBe(
        VerifyResult.ALREADY_VERIFIED,
      );
      const err = await client.resend({ id: gen.id }).then(
        () => undefined,
        (e: unknown) => ConnectError.from(e),
      );
      expect(err?.code).toBe(Code.FailedPrecondition);
      expect(err?.findDetails(ErrorInfoSchema)[0]?.reason).toBe("CHALLENGE_NOT_PENDING");
    });
  }
});
