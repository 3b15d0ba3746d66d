import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { createApiKey } from "../support/api-keys.js";
import { callJson, errorReason } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { run } from "../support/spawn-server.js";
import { startTestServer } from "../support/test-server.js";

const otp = "otp.v1.OtpService";
const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
let redis: RedisInstance;
let a: RunningServer;
let b: RunningServer;

beforeAll(async () => {
  redis = await startRedis();
  const env = { ...productionEnv(), REDIS_URL: redis.url, REDIS_KEY_PREFIX: "keys:" };
  // Two replicas on one Redis, as in production.
  [a, b] = await Promise.all([startTestServer(env), startTestServer(env)]);
});
afterAll(async () => {
  await Promise.all([a?.close(), b?.close()]);
  await redis?.stop();
});

describe("API keys in production", () => {
  it("refuses calls without a key, or with a malformed or unknown one, as unauthenticated and nothing more", async () => {
    const attempts: Record<string, string>[] = [
      {},
      { authorization: "Bearer nonsense" },
      { authorization: `Bearer otp_sk_00000000_${"A".repeat(40)}` },
      { authorization: "Basic dXNlcjpwYXNz" },
    ];
    for (const headers of attempts) {
      const res = await callJson(a.url, `${otp}/Generate`, {}, headers);
      expect([res.status, res.body.code, errorReason(res.body)]).toEqual([
        401,
        "unauthenticated",
        "UNAUTHENTICATED",
      ]);
    }
  });

  it("serves health and reflection without a key", async () => {
    const health = await callJson(a.url, "grpc.health.v1.Health/Check", {});
    expect(health.body.status).toBe("SERVING");
    const listed = await run("node_modules/.bin/buf", [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "--list-services",
      a.url,
    ]);
    expect(listed.stdout).toContain("otp.v1.OtpService");
  });

  it("lets a key make the calls its scopes allow, and refuses the rest as permission_denied", async () => {
    const key = await createApiKey(a.url, testAdminToken, {
      scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY"],
    });
    expect(key).toMatch(/^otp_sk_/);
    const gen = await callJson(a.url, `${otp}/Generate`, {}, bearer(key));
    expect(gen.status).toBe(200);
    // Another replica knows the key too: the cache of one is not the truth of all.
    const verified = await callJson(
      b.url,
      `${otp}/Verify`,
      { id: gen.body.id, code: gen.body.code },
      bearer(key),
    );
    expect(verified.body.result).toBe("VERIFY_RESULT_VERIFIED");
    for (const procedure of ["otp.v1.DeliveryService/ListChannels", `${otp}/EnrollTotp`]) {
      const res = await callJson(a.url, procedure, { accountName: "x@example.com" }, bearer(key));
      expect([res.body.code, errorReason(res.body)]).toEqual([
        "permission_denied",
        "PERMISSION_DENIED",
      ]);
    }
  });

  it("fails a revoked key at once on every replica", async () => {
    const auth = bearer(testAdminToken);
    const tenant = await callJson(
      a.url,
      "otp.v1.AdminService/CreateTenant",
      { name: "revocation" },
      auth,
    );
    const tenantId = (tenant.body.tenant as { id: string }).id;
    const created = await callJson(
      a.url,
      "otp.v1.AdminService/CreateApiKey",
      { tenantId, kind: "API_KEY_KIND_SECRET", scopes: ["SCOPE_GENERATE"] },
      auth,
    );
    const secret = created.body.secret as string;
    // Both replicas have used the key, so both hold it in their caches.
    for (const server of [a, b]) {
      expect((await callJson(server.url, `${otp}/Generate`, {}, bearer(secret))).status).toBe(200);
    }
    const keyId = (created.body.key as { id: string }).id;
    expect(secret.startsWith(keyId)).toBe(true);
    await callJson(b.url, "otp.v1.AdminService/RevokeApiKey", { keyId }, auth);
    // The replica that revoked refuses at once; the other within a second,
    // told through the change feed (its cache would trust the key for 30 s).
    const refused = async (server: RunningServer) =>
      (await callJson(server.url, `${otp}/Generate`, {}, bearer(secret))).body.code;
    expect(await refused(b)).toBe("unauthenticated");
    await expect.poll(() => refused(a), { timeout: 1_000, interval: 50 }).toBe("unauthenticated");
    const listed = await callJson(a.url, "otp.v1.AdminService/ListApiKeys", { tenantId }, auth);
    const keys = listed.body.keys as { id: string; revokedAt?: string }[];
    expect(keys.map((k) => [k.id, typeof k.revokedAt])).toEqual([[keyId, "string"]]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
  });

  it("keeps publishable keys to Generate with a delivery target and Verify, from their own origins", async () => {
    const key = await createApiKey(a.url, testAdminToken, {
      kind: "API_KEY_KIND_PUBLISHABLE",
      allowedOrigins: ["https://shop.example.com"],
    });
    expect(key).toMatch(/^otp_pk_/);
    const from = (origin: string) => ({ ...bearer(key), origin });
    const withTarget = {
      deliveryTargets: [{ channel: "CHANNEL_EMAIL", recipient: "ada@example.com" }],
    };
    // Past authentication, this production service has no email provider configured.
    const allowed = await callJson(
      a.url,
      `${otp}/Generate`,
      withTarget,
      from("https://shop.example.com"),
    );
    expect(errorReason(allowed.body)).toBe("CHANNEL_NOT_CONFIGURED");
    const noTarget = await callJson(a.url, `${otp}/Generate`, {}, from("https://shop.example.com"));
    expect(errorReason(noTarget.body)).toBe("PERMISSION_DENIED");
    const foreign = await callJson(
      a.url,
      `${otp}/Generate`,
      withTarget,
      from("https://evil.example.net"),
    );
    expect(errorReason(foreign.body)).toBe("PERMISSION_DENIED");
    const verify = await callJson(
      a.url,
      `${otp}/Verify`,
      { id: crypto.randomUUID(), code: "123456" },
      from("https://shop.example.com"),
    );
    expect(errorReason(verify.body)).toBe("CHALLENGE_NOT_FOUND");
    const cancel = await callJson(
      a.url,
      `${otp}/Cancel`,
      { id: crypto.randomUUID() },
      from("https://shop.example.com"),
    );
    expect(errorReason(cancel.body)).toBe("PERMISSION_DENIED");
  });

  it("keeps AdminService behind the admin credential", async () => {
    const key = await createApiKey(a.url, testAdminToken, { scopes: ["SCOPE_GENERATE"] });
    const attempts: Record<string, string>[] = [{}, bearer(key), bearer("x".repeat(40))];
    for (const headers of attempts) {
      const res = await callJson(a.url, "otp.v1.AdminService/ListTenants", {}, headers);
      expect(res.body.code).toBe("unauthenticated");
    }
    const bad = await callJson(
      a.url,
      "otp.v1.AdminService/CreateApiKey",
      { tenantId: "ten_missing", kind: "API_KEY_KIND_SECRET", scopes: ["SCOPE_GENERATE"] },
      bearer(testAdminToken),
    );
    expect([bad.body.code, errorReason(bad.body)]).toEqual(["not_found", "TENANT_NOT_FOUND"]);
  });
});

describe("API keys in development", () => {
  it("lets an anonymous caller in, but still refuses a bad key", async () => {
    const dev = await startTestServer();
    try {
      expect((await callJson(dev.url, `${otp}/Generate`, {})).status).toBe(200);
      const bad = await callJson(dev.url, `${otp}/Generate`, {}, { authorization: "Bearer nope" });
      expect(bad.body.code).toBe("unauthenticated");
    } finally {
      await dev.close();
    }
  });
});

describe("idempotency keys and key kinds", () => {
  it("never hands a publishable key the result of a secret key's idempotent Generate", async () => {
    // Development mode: the outbox stands in for email, so Generate succeeds.
    const dev = await startTestServer({ ADMIN_TOKEN: testAdminToken });
    try {
      const admin = bearer(testAdminToken);
      const tenant = await callJson(
        dev.url,
        "otp.v1.AdminService/CreateTenant",
        { name: "t" },
        admin,
      );
      const tenantId = (tenant.body.tenant as { id: string }).id;
      const secret = bearer(await createApiKey(dev.url, testAdminToken, { tenantId }));
      const browser = {
        ...bearer(
          await createApiKey(dev.url, testAdminToken, {
            tenantId,
            kind: "API_KEY_KIND_PUBLISHABLE",
            allowedOrigins: ["https://shop.example.com"],
          }),
        ),
        origin: "https://shop.example.com",
      };
      const generate = (body: object, headers: Record<string, string>) =>
        callJson(dev.url, `${otp}/Generate`, body, headers);
      const target = {
        deliveryTargets: [{ channel: "CHANNEL_EMAIL", recipient: "ada@example.com" }],
      };

      // The same request under the same key, from each kind of caller.
      const idempotencyKey = `order-${crypto.randomUUID()}`;
      const bySecret = await generate({ ...target, idempotencyKey }, secret);
      expect(bySecret.status).toBe(200);
      expect((await generate({ ...target, idempotencyKey }, secret)).body.id).toBe(
        bySecret.body.id,
      );
      const byBrowser = await generate({ ...target, idempotencyKey }, browser);
      expect(byBrowser.status).toBe(200);
      expect(byBrowser.body.id).not.toBe(bySecret.body.id);
      expect(byBrowser.body.deliveryId).not.toBe(bySecret.body.deliveryId);
      expect(byBrowser.body.code ?? "").toBe("");
      // The browser key's own retries still find its own first result.
      expect((await generate({ ...target, idempotencyKey }, browser)).body.id).toBe(
        byBrowser.body.id,
      );

      // A secret key's Generate that returned a code: a publishable caller with
      // that key neither gets the code nor learns the key was used (no conflict).
      const withCode = `order-${crypto.randomUUID()}`;
      const coded = await generate({ idempotencyKey: withCode }, secret);
      expect(coded.body.code).toMatch(/^\d{6}$/);
      const probe = await generate({ ...target, idempotencyKey: withCode }, browser);
      expect([probe.status, errorReason(probe.body)]).toEqual([200, undefined]);
      expect(probe.body.id).not.toBe(coded.body.id);
      expect(JSON.stringify(probe.body)).not.toContain(coded.body.code as string);
    } finally {
      await dev.close();
    }
  });
});
