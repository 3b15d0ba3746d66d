import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import {
  Code,
  ConnectError,
  createClient,
  createRouterTransport,
  type ServiceImpl,
} from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { RetryInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { DeliveryService } from "../../gen/otp/v1/delivery_pb.js";
import { OtpService, VerifyResult } from "../../gen/otp/v1/otp_pb.js";
import { backoffDelayMs, createRetryInterceptor, isSafeToRetry } from "./retry-interceptor.js";

const unavailable = () => new ConnectError("store down", Code.Unavailable);

/** An OtpService whose calls fail with `fail()` until `failures` calls have been made. */
function flakyOtp(failures: number, fail: () => ConnectError = unavailable) {
  const calls: string[] = [];
  const maybeFail = (name: string) => {
    calls.push(name);
    if (calls.length <= failures) throw fail();
  };
  const impl: Partial<ServiceImpl<typeof OtpService>> = {
    generate(req) {
      maybeFail("generate");
      return { id: req.idempotencyKey || "id" };
    },
    verify() {
      maybeFail("verify");
      return { result: VerifyResult.VERIFIED };
    },
    getChallenge() {
      maybeFail("getChallenge");
      return {};
    },
    resend() {
      maybeFail("resend");
      return {};
    },
    cancel() {
      maybeFail("cancel");
      return {};
    },
  };
  return { impl, calls };
}

function clientFor(
  impl: Partial<ServiceImpl<typeof OtpService>>,
  options = { initialDelayMs: 1, maxDelayMs: 5 },
  defaultTimeoutMs?: number,
) {
  const transport = createRouterTransport((router) => router.service(OtpService, impl), {
    transport: {
      interceptors: [createRetryInterceptor(options)],
      ...(defaultTimeoutMs === undefined ? {} : { defaultTimeoutMs }),
    },
  });
  return createClient(OtpService, transport);
}

async function codeOf(promise: Promise<unknown>): Promise<Code | undefined> {
  return promise.then(
    () => undefined,
    (err: unknown) => ConnectError.from(err).code,
  );
}

describe("createRetryInterceptor", () => {
  it("retries a read-only call until it succeeds", async () => {
    const { impl, calls } = flakyOtp(2);
    await clientFor(impl).getChallenge({ id: "x" });
    expect(calls).toEqual(["getChallenge", "getChallenge", "getChallenge"]);
  });

  it("gives up after maxAttempts and throws the last error", async () => {
    const { impl, calls } = flakyOtp(10);
    expect(await codeOf(clientFor(impl).getChallenge({ id: "x" }))).toBe(Code.Unavailable);
    expect(calls).toHaveLength(3);
  });

  it("never retries Verify, Resend, Cancel or Generate without an idempotency key", async () => {
    for (const call of [
      (c: ReturnType<typeof clientFor>) => c.verify({ id: "x", code: "1" }),
      (c: ReturnType<typeof clientFor>) => c.resend({ id: "x" }),
      (c: ReturnType<typeof clientFor>) => c.cancel({ id: "x" }),
      (c: ReturnType<typeof clientFor>) => c.generate({}),
    ]) {
      const { impl, calls } = flakyOtp(1);
      expect(await codeOf(call(clientFor(impl)))).toBe(Code.Unavailable);
      expect(calls).toHaveLength(1);
    }
  });

  it("retries Generate when it carries an idempotency key", async () => {
    const { impl, calls } = flakyOtp(1);
    const res = await clientFor(impl).generate({ idempotencyKey: "order-42" });
    expect(res.id).toBe("order-42");
    expect(calls).toEqual(["generate", "generate"]);
  });

  it("does not retry codes other than unavailable", async () => {
    const { impl, calls } = flakyOtp(
      1,
      () => new ConnectError("slow down", Code.ResourceExhausted),
    );
    expect(await codeOf(clientFor(impl).getChallenge({ id: "x" }))).toBe(Code.ResourceExhausted);
    expect(calls).toHaveLength(1);
  });

  it("waits at least the delay the service asks for", async () => {
    const { impl, calls } = flakyOtp(
      1,
      () =>
        new ConnectError("down", Code.Unavailable, undefined, [
          {
            desc: RetryInfoSchema,
            value: create(RetryInfoSchema, { retryDelay: durationFromMs(150) }),
          },
        ]),
    );
    const started = performance.now();
    await clientFor(impl).getChallenge({ id: "x" });
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    expect(calls).toHaveLength(2);
  });

  it("stops retrying at the call's deadline", async () => {
    const { impl, calls } = flakyOtp(100);
    const started = performance.now();
    const client = clientFor(impl, { initialDelayMs: 10_000, maxDelayMs: 10_000 }, 100);
    expect(await codeOf(client.getChallenge({ id: "x" }))).toBe(Code.DeadlineExceeded);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(calls).toHaveLength(1);
  });
});

describe("backoffDelayMs", () => {
  it("doubles up to the cap, with jitter in the upper half", () => {
    expect(backoffDelayMs(1, 100, 2_000, 0)).toBe(50);
    expect(backoffDelayMs(1, 100, 2_000, 1)).toBe(100);
    expect(backoffDelayMs(3, 100, 2_000, 0.5)).toBe(300);
    expect(backoffDelayMs(10, 100, 2_000, 1)).toBe(2_000);
    expect(backoffDelayMs(10, 100, 2_000, 0)).toBe(1_000);
  });
});

describe("isSafeToRetry", () => {
  const message = (fields: object) => fields as never;
  it("follows the contract's idempotency levels and idempotency keys", () => {
    expect(isSafeToRetry({ method: OtpService.method.getChallenge, message: message({}) })).toBe(
      true,
    );
    expect(isSafeToRetry({ method: DeliveryService.method.listOutbox, message: message({}) })).toBe(
      true,
    );
    expect(isSafeToRetry({ method: OtpService.method.verify, message: message({}) })).toBe(false);
    expect(
      isSafeToRetry({
        method: OtpService.method.generate,
        message: message({ idempotencyKey: "" }),
      }),
    ).toBe(false);
    expect(
      isSafeToRetry({
        method: OtpService.method.generate,
        message: message({ idempotencyKey: "k" }),
      }),
    ).toBe(true);
  });
});
