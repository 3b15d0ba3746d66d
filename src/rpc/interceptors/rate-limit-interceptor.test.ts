import { randomBytes } from "node:crypto";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import { afterEach, describe, expect, it } from "vitest";
import { OtpService } from "../../../gen/otp/v1/otp_pb.js";
import { callJson, errorReason, retryDelaySeconds } from "../../../test/support/connect-json.js";
import { parseLimit } from "../../config/index.js";
import { createSecretBox } from "../../core/secret-box.js";
import { StoreUnavailableError } from "../../core/store-unavailable.js";
import { createDispatcher } from "../../delivery/dispatcher.js";
import { clientIpContextValues, createClientIpResolver } from "../../http/client-ip.js";
import { createChallengeService } from "../../otp/challenge-service.js";
import { createCodeHasher } from "../../otp/code-hasher.js";
import { createMemoryStore } from "../../store/memory/memory-store.js";
import type { Store } from "../../store/store.js";
import { createLogger } from "../../telemetry/logger.js";
import { createTokenSigner, generateSigningKey } from "../../tokens/token-signer.js";
import { createTotpService } from "../../totp/totp-service.js";
import { createOtpHandlers } from "../otp-service.js";
import { createErrorInterceptor } from "./error-interceptor.js";
import { createRateLimitInterceptor } from "./rate-limit-interceptor.js";

interface Service {
  call(method: string, body: unknown, fromIp?: string): ReturnType<typeof callJson>;
  /** How many times the store was asked to create a challenge, and to count a hit. */
  counts: { createChallenge: number; consume: number };
  refused: string[];
  /** The buckets a call was let through unchecked, in order. */
  failedOpen: string[];
}

/** A store failure the wrapped store throws from `consume` for the buckets it names. */
interface ConsumeFault {
  buckets: string[];
  unreachable: boolean;
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

/**
 * Serves the real OtpService handlers over a memory store, behind the error
 * interceptor and the rate-limit interceptor, on 127.0.0.1 with loopback
 * trusted as a proxy: a call names its own caller IP with X-Forwarded-For.
 */
async function startService(
  limits: { generate: string; verify: string; tenant?: string },
  fault?: ConsumeFault,
): Promise<Service> {
  const memory = createMemoryStore();
  const counts = { createChallenge: 0, consume: 0 };
  const store: Store = {
    ...memory,
    createChallenge: (input) => {
      counts.createChallenge += 1;
      return memory.createChallenge(input);
    },
    consume: async (bucket, key, limit) => {
      counts.consume += 1;
      if (fault?.buckets.includes(bucket)) {
        const cause = new Error(fault.unreachable ? "Command timed out" : "ERR script failed");
        throw new StoreUnavailableError({ cause, unreachable: fault.unreachable });
      }
      return memory.consume(bucket, key, limit);
    },
  };
  const challenges = createChallengeService({
    store,
    hasher: createCodeHasher(["a-test-secret-that-is-long-enough-000"]),
    dispatcher: createDispatcher({ store, channels: [] }),
    resendCooldownSeconds: 0,
    maxSends: 100,
    retentionSeconds: 60,
  });
  const totp = createTotpService({
    store,
    box: createSecretBox([randomBytes(32)]),
    hasher: createCodeHasher(["a-test-secret-that-is-long-enough-000"]),
    defaultIssuer: "test",
    window: 1,
    maxFailures: 5,
    lockoutSeconds: 60,
    pendingSeconds: 60,
    retentionSeconds: 60,
  });
  const signer = await createTokenSigner({
    keys: [await generateSigningKey()],
    issuer: "test",
    ttlSeconds: 60,
    bindingSecret: "a-test-secret-that-is-long-enough-000",
  });
  const refused: string[] = [];
  const failedOpen: string[] = [];
  const handler = connectNodeAdapter({
    routes: (router) => router.service(OtpService, createOtpHandlers(challenges, totp, signer)),
    interceptors: [
      createErrorInterceptor(createLogger("silent")),
      createRateLimitInterceptor({
        store,
        limits: {
          generatePerIp: parseLimit(limits.generate),
          verifyPerIp: parseLimit(limits.verify),
          tenantGenerate: parseLimit(limits.tenant ?? "off"),
        },
        hashKey: (bucket, key) => `${bucket}:${key}`,
        onRefused: (limit) => refused.push(limit),
        onFailedOpen: (limit) => failedOpen.push(limit),
      }),
    ],
    contextValues: clientIpContextValues(createClientIpResolver(["loopback"])),
  });
  const server = http.createServer(handler);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", () => done()));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((done) => server.close(done));
    await memory.close();
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    call: (method, body, fromIp) =>
      callJson(
        url,
        `otp.v1.OtpService/${method}`,
        body,
        fromIp === undefined ? {} : { "x-forwarded-for": fromIp },
      ),
    counts,
    refused,
    failedOpen,
  };
}

function expectRateLimited(reply: Awaited<ReturnType<typeof callJson>>): void {
  expect([reply.status, reply.body.code, errorReason(reply.body)]).toEqual([
    429,
    "resource_exhausted",
    "RATE_LIMITED",
  ]);
}

describe("createRateLimitInterceptor", () => {
  it("refuses the 11th Generate within a minute from one address, with the delay", async () => {
    const service = await startService({ generate: "10/1m", verify: "60/1m" });
    for (let i = 0; i < 10; i++) {
      expect((await service.call("Generate", {})).status).toBe(200);
    }
    const refused = await service.call("Generate", {});
    expectRateLimited(refused);
    const delay = retryDelaySeconds(refused.body) ?? -1;
    expect(delay).toBeGreaterThanOrEqual(1);
    expect(delay).toBeLessThanOrEqual(60);
    expect(service.refused).toEqual(["generate_ip"]);
  });

  it("counts each caller address on its own", async () => {
    const service = await startService({ generate: "3/1m", verify: "60/1m" });
    for (let i = 0; i < 3; i++) await service.call("Generate", {});
    expectRateLimited(await service.call("Generate", {}));
    // The same peer, but a trusted proxy forwarding for other callers.
    expect((await service.call("Generate", {}, "203.0.113.7")).status).toBe(200);
    expect((await service.call("Generate", {}, "203.0.113.8")).status).toBe(200);
    expect((await service.call("Generate", {}, "2001:db8::1")).status).toBe(200);
  });

  it("leaves no challenge behind for a refused Generate", async () => {
    const service = await startService({ generate: "3/1m", verify: "60/1m" });
    for (let i = 0; i < 3; i++) await service.call("Generate", {}, "203.0.113.7");
    const refused = await service.call("Generate", { idempotencyKey: "k-1" }, "203.0.113.7");
    expectRateLimited(refused);
    expect(refused.body.id).toBeUndefined();
    expect(service.counts.createChallenge).toBe(3);
  });

  it("counts Resend against the Generate budget", async () => {
    const service = await startService({ generate: "3/1m", verify: "60/1m" });
    const { body } = await service.call("Generate", {});
    expect((await service.call("Resend", { id: body.id })).status).toBe(200);
    expect((await service.call("Generate", {})).status).toBe(200);
    expectRateLimited(await service.call("Resend", { id: body.id }));
    expectRateLimited(await service.call("Generate", {}));
    expect(service.refused).toEqual(["generate_ip", "generate_ip"]);
  });

  it("limits Verify on its own budget, and a refused Verify costs no attempt", async () => {
    const service = await startService({ generate: "3/1m", verify: "3/1m" });
    const { body } = await service.call("Generate", { maxAttempts: 10 }, "203.0.113.7");
    const wrong = body.code === "000000" ? "111111" : "000000";
    for (let i = 0; i < 3; i++) {
      const reply = await service.call("Verify", { id: body.id, code: wrong });
      expect(reply.body.result).toBe("VERIFY_RESULT_INVALID_CODE");
    }
    expectRateLimited(await service.call("Verify", { id: body.id, code: body.code }));
    // Unknown ids are counted too, so the limit cannot be probed for free.
    expectRateLimited(await service.call("Verify", { id: crypto.randomUUID(), code: "123456" }));
    expect(service.refused).toEqual(["verify_ip", "verify_ip"]);

    const got = await service.call("GetChallenge", { id: body.id });
    expect((got.body.challenge as { attemptsRemaining: number }).attemptsRemaining).toBe(7);
    // The Generate budget is untouched, and another caller can still verify.
    expect((await service.call("Generate", {})).status).toBe(200);
    const ok = await service.call("Verify", { id: body.id, code: body.code }, "203.0.113.7");
    expect(ok.body.result).toBe("VERIFY_RESULT_VERIFIED");
  });

  it("lets other procedures through when the budgets are spent", async () => {
    const service = await startService({ generate: "1/1m", verify: "1/1m" });
    const { body } = await service.call("Generate", {});
    await service.call("Verify", { id: body.id, code: "000000" });
    expectRateLimited(await service.call("Generate", {}));
    expectRateLimited(await service.call("Verify", { id: body.id, code: "000000" }));
    for (let i = 0; i < 5; i++) {
      expect((await service.call("GetChallenge", { id: body.id })).status).toBe(200);
    }
    expect((await service.call("Cancel", { id: body.id })).body.status).toBe(
      "CHALLENGE_STATUS_CANCELED",
    );
    expect(service.counts.consume).toBe(4);
  });

  it("never refuses, nor counts, when the limits are off", async () => {
    const service = await startService({ generate: "off", verify: "off" });
    const { body } = await service.call("Generate", { maxAttempts: 60 });
    const wrong = body.code === "000000" ? "111111" : "000000";
    const replies = await Promise.all([
      ...Array.from({ length: 30 }, () => service.call("Generate", {})),
      ...Array.from({ length: 30 }, () => service.call("Verify", { id: body.id, code: wrong })),
    ]);
    expect(replies.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(service.counts.consume).toBe(0);
    expect(service.refused).toEqual([]);
  });

  it("lets Generate and Verify through, and says so, when the per-IP counter's node is unreachable", async () => {
    const service = await startService(
      { generate: "1/1m", verify: "1/1m" },
      { buckets: ["generate_ip", "verify_ip"], unreachable: true },
    );
    const made = await service.call("Generate", {});
    expect(made.status).toBe(200);
    expect((await service.call("Generate", {})).status).toBe(200);
    const verified = await service.call("Verify", { id: made.body.id, code: made.body.code });
    expect(verified.body.result).toBe("VERIFY_RESULT_VERIFIED");
    expect(service.failedOpen).toEqual(["generate_ip", "generate_ip", "verify_ip"]);
    expect(service.refused).toEqual([]);
  });

  it("fails the call with STORE_UNAVAILABLE when the per-IP counter fails for another reason", async () => {
    const service = await startService(
      { generate: "10/1m", verify: "10/1m" },
      { buckets: ["generate_ip"], unreachable: false },
    );
    const reply = await service.call("Generate", {});
    expect([reply.body.code, errorReason(reply.body)]).toEqual([
      "unavailable",
      "STORE_UNAVAILABLE",
    ]);
    expect(service.counts.createChallenge).toBe(0);
    expect(service.failedOpen).toEqual([]);
  });

  it("keeps the tenant quota closed when its counter's node is unreachable", async () => {
    const service = await startService(
      { generate: "10/1m", verify: "10/1m", tenant: "100/1m" },
      { buckets: ["tenant_generate"], unreachable: true },
    );
    const reply = await service.call("Generate", {});
    expect([reply.body.code, errorReason(reply.body)]).toEqual([
      "unavailable",
      "STORE_UNAVAILABLE",
    ]);
    expect(service.counts.createChallenge).toBe(0);
    expect(service.failedOpen).toEqual([]);
  });
});
