import { PassThrough } from "node:stream";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { HealthCheckRequestSchema } from "../../gen/health/v1/health_pb.js";
import { envelope, readSingleEnvelope } from "./grpc-envelope.js";

const frame = (bytes: Uint8Array, flags = 0) => Buffer.from(envelope(flags, bytes));
const checkFrame = (service: string) =>
  frame(toBinary(HealthCheckRequestSchema, create(HealthCheckRequestSchema, { service })));

// A request body that delivers these chunks, then ends.
function bodyOf(chunks: Buffer[]): PassThrough {
  const body = new PassThrough();
  for (const chunk of chunks) body.write(chunk);
  body.end();
  return body;
}

describe("envelope", () => {
  it("prefixes the flags and the big-endian length", () => {
    expect([...envelope(1, new Uint8Array(300).fill(7)).subarray(0, 6)]).toEqual([
      1, 0, 0, 1, 44, 7,
    ]);
  });
});

describe("readSingleEnvelope", () => {
  it("reads one message, whole or split at any byte", async () => {
    const whole = checkFrame("otp");
    for (let at = 1; at < whole.length; at++) {
      const body = bodyOf([whole.subarray(0, at), whole.subarray(at)]);
      const message = await readSingleEnvelope(body, 1024);
      expect(fromBinary(HealthCheckRequestSchema, message).service).toBe("otp");
    }
  });

  it("refuses a declared length over the bound from the prefix alone", async () => {
    const body = new PassThrough();
    const prefix = Buffer.from([0, 0, 0, 8, 0]);
    body.write(prefix);
    // The body never ends: the refusal cannot have waited for it.
    await expect(readSingleEnvelope(body, 1024)).rejects.toMatchObject({
      code: Code.ResourceExhausted,
    });
  });

  it("refuses a second message, a compressed flag, a cut-off frame and no message at all", async () => {
    const cases: [Buffer[], RegExp][] = [
      [[checkFrame("a"), checkFrame("b")], /extra input message/],
      [[frame(Buffer.from("x"), 1)], /compressed message without grpc-encoding/],
      [[frame(Buffer.from("x"), 0x80)], /unknown message flags/],
      [[checkFrame("abc").subarray(0, 6)], /incomplete envelope/],
      [[Buffer.from([0, 0])], /incomplete envelope/],
      [[], /missing input message/],
    ];
    for (const [chunks, message] of cases) {
      const body = bodyOf(chunks);
      const err = await readSingleEnvelope(body, 1024).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConnectError);
      expect((err as ConnectError).code).toBe(Code.InvalidArgument);
      expect((err as ConnectError).rawMessage).toMatch(message);
    }
  });

  it("rejects as canceled when the body breaks", async () => {
    const body = new PassThrough();
    body.write(Buffer.from([0, 0, 0, 0, 9]));
    const pending = readSingleEnvelope(body, 1024);
    body.destroy(new Error("reset"));
    await expect(pending).rejects.toMatchObject({ code: Code.Canceled });
  });
});
