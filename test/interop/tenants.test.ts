import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeliveryService } from "../../gen/otp/v1/delivery_pb.js";
import type { RunningServer } from "../../src/app.js";
import { createApiKey } from "../support/api-keys.js";
import { callJson, errorReason } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

const allScopes = ["SCOPE_GENERATE", "SCOPE_VERIFY", "SCOPE_SEND", "SCOPE_TOTP"];
let redis: RedisInstance;
let server: RunningServer;
let a: Record<string, string>;
let b: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  // Development mode keeps the outbox; keys are still checked when sent.
  server = await startTestServer({
    REDIS_URL: redis.url,
    OTP_HMAC_SECRET: "i".repeat(40),
    ADMIN_TOKEN: testAdminToken,
    RATE_LIMIT_GENERATE_PER_IP: "4/1m",
  });
  a = {
    authorization: `Bearer ${await createApiKey(server.url, testAdminToken, { scopes: allScopes })}`,
  };
  b = {
    authorization: `Bearer ${await createApiKey(server.url, testAdminToken, { scopes: allScopes })}`,
  };
});
afterAll(async () => {
  await server?.close();
  await redis?.stop();
});

const call = (procedure: string, body: unknown, headers: Record<string, string>) =>
  callJson(server.url, procedure, body, headers);
const outcome = (r: { status: number; body: Record<string, unknown> }) => [
  r.body.code ?? "ok",
  errorReason(r.body),
];

describe("tenant isolation", () => {
  it("answers another tenant's ids exactly as unknown ids, on every RPC", async () => {
    const gen = await call(
      "otp.v1.OtpService/Generate",
      { deliveryTargets: [{ channel: "CHANNEL_EMAIL", recipient: "ada@example.com" }] },
      a,
    );
    const challengeId = gen.body.id as string;
    const deliveryId = gen.body.deliveryId as string;
    const sent = await call(
      "otp.v1.DeliveryService/Send",
      { channel: "CHANNEL_SMS", recipient: "+14155552671", text: "hello" },
      a,
    );
    const sentId = (sent.body.delivery as { id: string }).id;
    const factor = (
      await call("otp.v1.OtpService/EnrollTotp", { accountName: "ada@example.com" }, a)
    ).body.factorId as string;
    expect(
      [challengeId, deliveryId, sentId, factor].every((x) => typeof x === "string" && x !== ""),
    ).toBe(true);

    const probes: [string, (id: string) => unknown, string][] = [
      ["otp.v1.OtpService/GetChallenge", (id) => ({ id }), challengeId],
      ["otp.v1.OtpService/Verify", (id) => ({ id, code: "123456" }), challengeId],
      ["otp.v1.OtpService/Resend", (id) => ({ id }), challengeId],
      ["otp.v1.OtpService/Cancel", (id) => ({ id }), challengeId],
      ["otp.v1.DeliveryService/GetDelivery", (id) => ({ id }), deliveryId],
      ["otp.v1.DeliveryService/GetDelivery", (id) => ({ id }), sentId],
      ["otp.v1.OtpService/ConfirmTotp", (id) => ({ factorId: id, code: "123456" }), factor],
      ["otp.v1.OtpService/VerifyTotp", (id) => ({ factorId: id, code: "123456" }), factor],
      ["otp.v1.OtpService/DeleteTotp", (id) => ({ factorId: id }), factor],
    ];
    for (const [procedure, body, id] of probes) {
      const foreign = await call(procedure, body(id), b);
      const unknown = await call(procedure, body(crypto.randomUUID()), b);
      expect(outcome(foreign), procedure).toEqual(outcome(unknown));
      expect(foreign.body.code, procedure).toBe("not_found");
    }
    // Nothing B tried touched A's records.
    const mine = await call("otp.v1.OtpService/GetChallenge", { id: challengeId }, a);
    expect(mine.body.challenge).toMatchObject({
      status: "CHALLENGE_STATUS_PENDING",
      attemptsRemaining: 5,
    });
    expect((await call("otp.v1.DeliveryService/GetDelivery", { id: sentId }, a)).status).toBe(200);
  });

  it("refuses to stream another tenant's delivery", async () => {
    const sent = await call(
      "otp.v1.DeliveryService/Send",
      { channel: "CHANNEL_EMAIL", recipient: "w@example.com", text: "x" },
      a,
    );
    const id = (sent.body.delivery as { id: string }).id;
    const watch = (headers: Record<string, string>) => {
      const client = createClient(
        DeliveryService,
        createConnectTransport({
          baseUrl: server.url,
          httpVersion: "1.1",
          interceptors: [
            (next) => (req) => {
              for (const [k, v] of Object.entries(headers)) req.header.set(k, v);
              return next(req);
            },
          ],
        }),
      );
      return (async () => {
        const events = [];
        for await (const e of client.watchDelivery({ id })) events.push(e);
        return events.length;
      })().catch((err) => ConnectError.from(err).code);
    };
    expect(await watch(a)).toBeGreaterThan(0);
    expect(await watch(b)).toBe(Code.NotFound);
  });

  it("shows each tenant only its own outbox", async () => {
    await call(
      "otp.v1.OtpService/Generate",
      { deliveryTargets: [{ channel: "CHANNEL_EMAIL", recipient: "only-a@example.com" }] },
      a,
    );
    const seenByA = await call(
      "otp.v1.DeliveryService/ListOutbox",
      { recipient: "only-a@example.com" },
      a,
    );
    const seenByB = await call(
      "otp.v1.DeliveryService/ListOutbox",
      { recipient: "only-a@example.com" },
      b,
    );
    expect((seenByA.body.messages as unknown[]).length).toBe(1);
    expect(seenByB.body.messages ?? []).toEqual([]);
  });

  it("gives two tenants using one idempotency key two separate challenges", async () => {
    const key = `order-${crypto.randomUUID()}`;
    const fromA = await call("otp.v1.OtpService/Generate", { idempotencyKey: key }, a);
    const fromB = await call("otp.v1.OtpService/Generate", { idempotencyKey: key }, b);
    expect(fromA.status).toBe(200);
    expect(fromB.status).toBe(200);
    expect(fromB.body.id).not.toBe(fromA.body.id);
  });

  it("keeps each tenant's rate-limit buckets apart", async () => {
    const admin = { authorization: `Bearer ${testAdminToken}` };
    const tenantWithBucket = async () => {
      const created = await call("otp.v1.AdminService/CreateTenant", { name: "bucketed" }, admin);
      const tenantId = (created.body.tenant as { id: string }).id;
      const updated = await call(
        "otp.v1.AdminService/UpdateTenantSettings",
        { tenantId, settings: { rateLimitBuckets: [{ name: "login", limit: "4/1m" }] } },
        admin,
      );
      expect(updated.status).toBe(200);
      const key = await createApiKey(server.url, testAdminToken, { scopes: allScopes, tenantId });
      return { authorization: `Bearer ${key}` };
    };
    const [tenantC, tenantD] = [await tenantWithBucket(), await tenantWithBucket()];
    const body = { rateLimitKeys: [{ bucket: "login", key: "user-1" }] };
    const statuses = [];
    for (let i = 0; i < 5; i++)
      statuses.push((await call("otp.v1.OtpService/Generate", body, tenantC)).status);
    // A secret key has no per-IP limit (RATE_LIMIT_GENERATE_PER_IP is 4/1m here): only its bucket refuses.
    expect(statuses).toEqual([200, 200, 200, 200, 429]);
    const refused = await call("otp.v1.OtpService/Generate", body, tenantC);
    expect(errorReason(refused.body)).toBe("RATE_LIMITED");
    expect(JSON.stringify(refused.body)).toContain("key:login");
    expect((await call("otp.v1.OtpService/Generate", body, tenantD)).status).toBe(200);
  });
});
