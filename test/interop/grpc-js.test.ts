import { promisify } from "node:util";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import protobuf from "protobufjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { startTestServer } from "../support/test-server.js";

// gRPC from a client we did not write or generate: @grpc/grpc-js loading our .proto files.
let server: RunningServer;
let client: grpc.Client;

type Reply = Record<string, unknown>;

/** Calls a unary method of the dynamically loaded client. */
function unary(method: string, request: object): Promise<Reply> {
  const fn = (client as unknown as Record<string, (...args: unknown[]) => void>)[method];
  if (fn === undefined) throw new Error(`no method ${method}`);
  return promisify((req: object, cb: (err: Error | null, res: Reply) => void) =>
    fn.call(client, req, cb),
  )(request);
}

// google.rpc.Status and the details we send, declared here so that this test
// decodes `grpc-status-details-bin` the way any gRPC client would.
const statusRoot = protobuf.parse(`
  syntax = "proto3";
  package google.rpc;
  message Any { string type_url = 1; bytes value = 2; }
  message Status { int32 code = 1; string message = 2; repeated Any details = 3; }
  message ErrorInfo { string reason = 1; string domain = 2; map<string, string> metadata = 3; }
  message Duration { int64 seconds = 1; int32 nanos = 2; }
  message RetryInfo { Duration retry_delay = 1; }
`).root;

function detailsOf(err: grpc.ServiceError): { reason?: string; retrySeconds?: number } {
  const [bin] = err.metadata.get("grpc-status-details-bin");
  if (!(bin instanceof Buffer)) return {};
  const status = statusRoot.lookupType("google.rpc.Status").decode(bin) as unknown as {
    details: { typeUrl: string; value: Uint8Array }[];
  };
  const out: { reason?: string; retrySeconds?: number } = {};
  for (const d of status.details) {
    if (d.typeUrl.endsWith("google.rpc.ErrorInfo")) {
      out.reason = (
        statusRoot.lookupType("google.rpc.ErrorInfo").decode(d.value) as unknown as {
          reason: string;
        }
      ).reason;
    }
    if (d.typeUrl.endsWith("google.rpc.RetryInfo")) {
      const info = statusRoot.lookupType("google.rpc.RetryInfo").decode(d.value) as unknown as {
        retryDelay: { seconds: number | { toNumber(): number } };
      };
      const s = info.retryDelay.seconds;
      out.retrySeconds = typeof s === "number" ? s : s.toNumber();
    }
  }
  return out;
}

async function failure(p: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await p;
  } catch (err) {
    return err as grpc.ServiceError;
  }
  throw new Error("the call succeeded");
}

beforeAll(async () => {
  server = await startTestServer();
  const definition = protoLoader.loadSync(["otp/v1/otp.proto", "otp/v1/delivery.proto"], {
    includeDirs: ["proto"],
    enums: String,
    defaults: true,
    longs: Number,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    otp: { v1: { OtpService: grpc.ServiceClientConstructor } };
  };
  const Ctor = loaded.otp.v1.OtpService;
  client = new Ctor(`127.0.0.1:${server.port}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client.close();
  await server.close();
});

describe("gRPC over h2c with @grpc/grpc-js", () => {
  it("generates and verifies a code exactly once", async () => {
    const gen = await unary("Generate", { alphabet: "ALPHABET_ALPHANUMERIC", codeLength: 7 });
    expect(gen.code).toMatch(/^[2-9A-HJKMNP-Z]{7}$/);
    const ok = await unary("Verify", { id: gen.id, code: String(gen.code).toLowerCase() });
    expect(ok).toMatchObject({
      result: "VERIFY_RESULT_VERIFIED",
      status: "CHALLENGE_STATUS_VERIFIED",
    });
    const again = await unary("Verify", { id: gen.id, code: gen.code });
    expect(again.result).toBe("VERIFY_RESULT_ALREADY_VERIFIED");
  });

  it("reports a wrong code as a normal response that costs an attempt", async () => {
    const gen = await unary("Generate", { maxAttempts: 2 });
    const wrong = gen.code === "000000" ? "111111" : "000000";
    expect(await unary("Verify", { id: gen.id, code: wrong })).toMatchObject({
      result: "VERIFY_RESULT_INVALID_CODE",
      attemptsRemaining: 1,
    });
    await unary("Verify", { id: gen.id, code: wrong });
    const got = await unary("GetChallenge", { id: gen.id });
    expect((got.challenge as { status: string }).status).toBe(
      "CHALLENGE_STATUS_ATTEMPTS_EXHAUSTED",
    );
  });

  it("sends word codes and accepts them typed with spaces", async () => {
    const gen = await unary("Generate", { alphabet: "ALPHABET_WORDS" });
    const words = String(gen.code).split("-");
    expect(words).toHaveLength(4);
    expect((await unary("Verify", { id: gen.id, code: words.join(" ") })).result).toBe(
      "VERIFY_RESULT_VERIFIED",
    );
  });

  it("refuses bad input with INVALID_ARGUMENT and a reason in the status details", async () => {
    const err = await failure(unary("Generate", { ttlSeconds: 7200 }));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(detailsOf(err).reason).toBe("TTL_INVALID");
    const notFound = await failure(unary("GetChallenge", { id: crypto.randomUUID() }));
    expect(notFound.code).toBe(grpc.status.NOT_FOUND);
    expect(detailsOf(notFound).reason).toBe("CHALLENGE_NOT_FOUND");
  });

  it("refuses an early Resend with RESOURCE_EXHAUSTED and a retry delay", async () => {
    const gen = await unary("Generate", {});
    const err = await failure(unary("Resend", { id: gen.id }));
    expect(err.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const details = detailsOf(err);
    expect(details.reason).toBe("RESEND_COOLDOWN");
    expect(details.retrySeconds).toBeGreaterThan(25);
  });

  it("binds a challenge to a Struct and cancels it", async () => {
    const binding = { fields: { session: { stringValue: "abc" } } };
    const gen = await unary("Generate", { binding });
    const mismatch = await unary("Verify", { id: gen.id, code: gen.code, binding: { fields: {} } });
    expect(mismatch.result).toBe("VERIFY_RESULT_BINDING_MISMATCH");
    expect((await unary("Cancel", { id: gen.id })).status).toBe("CHALLENGE_STATUS_CANCELED");
    expect((await unary("Verify", { id: gen.id, code: gen.code, binding })).result).toBe(
      "VERIFY_RESULT_CANCELED",
    );
  });

  it("keeps 50 concurrent wrong guesses within max_attempts over one HTTP/2 connection", async () => {
    const gen = await unary("Generate", { maxAttempts: 5 });
    const wrong = gen.code === "000000" ? "111111" : "000000";
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => unary("Verify", { id: gen.id, code: wrong })),
    );
    expect(replies.filter((r) => r.result === "VERIFY_RESULT_INVALID_CODE")).toHaveLength(5);
  });

  it("verifies 20 concurrent right guesses exactly once", async () => {
    const gen = await unary("Generate", {});
    const replies = await Promise.all(
      Array.from({ length: 20 }, () => unary("Verify", { id: gen.id, code: gen.code })),
    );
    expect(replies.filter((r) => r.result === "VERIFY_RESULT_VERIFIED")).toHaveLength(1);
  });
});
