import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService, ApiKeyKind, Scope } from "../../gen/otp/v1/admin_pb.js";
import { Channel } from "../../gen/otp/v1/channel_pb.js";
import { OtpService, VerifyResult } from "../../gen/otp/v1/otp_pb.js";
import type { Event } from "../../gen/otp/v1/webhooks_pb.js";
import type { RunningServer } from "../../src/app.js";
import { startRedis } from "../support/redis-harness.js";
import { testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

// The service in this process on the memory store: every emission point, seen
// through WatchEvents with the Connect client, and what a tenant's key may watch.
let server: RunningServer;
beforeAll(async () => {
  server = await startTestServer({ ADMIN_TOKEN: testAdminToken, EVENT_FLUSH_MS: "20" });
});
afterAll(async () => {
  await server?.close();
});

const transport = (token: string) =>
  createConnectTransport({
    baseUrl: server.url,
    httpVersion: "1.1",
    interceptors: [
      (next) => (req) => {
        req.header.set("authorization", `Bearer ${token}`);
        return next(req);
      },
    ],
  });
const operator = () => createClient(AdminService, transport(testAdminToken));

async function tenantKey(name: string) {
  const admin = operator();
  const { tenant } = await admin.createTenant({ name });
  const { secret, key } = await admin.createApiKey({
    tenantId: tenant?.id ?? "",
    kind: ApiKeyKind.SECRET,
    scopes: [Scope.GENERATE, Scope.VERIFY, Scope.ADMIN_READ],
    name: "backend",
  });
  return { tenantId: tenant?.id ?? "", secret, keyId: key?.id ?? "" };
}

/** Collects what a WatchEvents stream yields until stopped. */
function collect(token: string, request: { tenantId?: string; types?: string[] } = {}) {
  const seen: Event[] = [];
  const abort = new AbortController();
  const done = (async () => {
    const stream = createClient(AdminService, transport(token)).watchEvents(request, {
      signal: abort.signal,
    });
    for await (const { event } of stream) if (event !== undefined) seen.push(event);
  })().catch((err: unknown) => err);
  return { seen, stop: () => abort.abort(), done };
}

describe("events from every emission point", () => {
  it("streams challenge, delivery and key events with masked recipients to the tenant's watcher only", async () => {
    const mine = await tenantKey("Events A");
    const other = await tenantKey("Events B");
    const live = collect(mine.secret);
    const theirs = collect(other.secret);
    const everything = collect(testAdminToken, { types: ["challenge.created"] });
    await new Promise((r) => setTimeout(r, 100));
    const otp = createClient(OtpService, transport(mine.secret));
    const sent = await otp.generate({
      maxAttempts: 2,
      deliveryTargets: [{ channel: Channel.OUTBOX, recipient: "+14155550123" }],
    });
    for (const code of ["000000", "111111"]) {
      const res = await otp.verify({ id: sent.id, code });
      expect(res.result).toBe(VerifyResult.INVALID_CODE);
    }
    const plain = await otp.generate({});
    expect((await otp.verify({ id: plain.id, code: plain.code })).result).toBe(
      VerifyResult.VERIFIED,
    );
    const canceled = await otp.generate({});
    await otp.cancel({ id: canceled.id });
    await operator().revokeApiKey({ keyId: (await tenantKey("Events C")).keyId });
    await operator().deleteApiKey({ keyId: other.keyId });

    const types = () => live.seen.map((e) => e.type);
    await expect
      .poll(types, { timeout: 3000 })
      .toEqual(
        expect.arrayContaining([
          "challenge.created",
          "delivery.status_changed",
          "challenge.failed",
          "challenge.verified",
          "challenge.canceled",
        ]),
      );
    const created = live.seen.find((e) => e.type === "challenge.created");
    expect(created?.data).toMatchObject({
      challenge_id: sent.id,
      channel: "outbox",
      recipient: "+1******0123",
    });
    expect(JSON.stringify(live.seen.map((e) => e.data))).not.toContain("4155550123");
    expect(live.seen.every((e) => e.tenantId === mine.tenantId)).toBe(true);
    expect(live.seen.filter((e) => e.type === "challenge.failed")).toHaveLength(1);
    // The operator's filtered stream sees every tenant's creations and nothing else.
    await expect.poll(() => everything.seen.length, { timeout: 3000 }).toBe(3);
    expect(new Set(everything.seen.map((e) => e.type))).toEqual(new Set(["challenge.created"]));
    // The other tenant saw none of this, only the revocation of its own key.
    await expect
      .poll(() => theirs.seen.map((e) => e.type), { timeout: 3000 })
      .toContain("key.revoked");
    expect(theirs.seen.find((e) => e.type === "key.revoked")?.data).toEqual({
      key_id: other.keyId,
    });
    expect(theirs.seen.filter((e) => e.type.startsWith("challenge."))).toEqual([]);
    for (const s of [live, theirs, everything]) s.stop();
  });

  it("refuses another tenant's stream, unknown types and anonymous callers", async () => {
    const mine = await tenantKey("Events D");
    const other = await tenantKey("Events E");
    const cases: [string, { tenantId?: string; types?: string[] }, string][] = [
      [mine.secret, { tenantId: other.tenantId }, "TENANT_NOT_FOUND"],
      [mine.secret, { types: ["challenge.nope"] }, "EVENT_FILTER_INVALID"],
      [testAdminToken, { tenantId: "x".repeat(65) }, "EVENT_FILTER_INVALID"],
    ];
    for (const [token, request, reason] of cases) {
      const { done } = collect(token, request);
      const err = ConnectError.from(await done);
      const code = reason === "TENANT_NOT_FOUND" ? Code.NotFound : Code.InvalidArgument;
      expect([err.code, err.findDetails(ErrorInfoSchema)[0]?.reason]).toEqual([code, reason]);
    }
  });

  it("lets a tenant's admin key manage its own endpoints and no one else's", async () => {
    const admin = operator();
    const [{ tenant: a }, { tenant: b }] = await Promise.all([
      admin.createTenant({ name: "Hooks A" }),
      admin.createTenant({ name: "Hooks B" }),
    ]);
    const keyOf = async (tenantId: string) =>
      (
        await admin.createApiKey({
          tenantId,
          kind: ApiKeyKind.SECRET,
          scopes: [Scope.ADMIN],
          name: "tenant admin",
        })
      ).secret;
    const mine = createClient(AdminService, transport(await keyOf(a?.id ?? "")));
    const created = await mine.createWebhookEndpoint({ url: "https://hooks.example.com/a" });
    expect(created.endpoint?.tenantId).toBe(a?.id);
    expect(created.secret).toMatch(/^whsec_/);
    const theirs = await admin.createWebhookEndpoint({
      tenantId: b?.id ?? "",
      url: "https://hooks.example.com/b",
    });
    const reasonOf = async (call: Promise<unknown>) => {
      const err = ConnectError.from(
        await call.then(
          () => undefined,
          (e: unknown) => e,
        ),
      );
      return [err.code, err.findDetails(ErrorInfoSchema)[0]?.reason];
    };
    const other = theirs.endpoint?.id ?? "";
    for (const call of [
      mine.rotateWebhookSecret({ endpointId: other }),
      mine.deleteWebhookEndpoint({ endpointId: other }),
      mine.sendTestWebhook({ endpointId: other }),
      mine.listWebhookAttempts({ endpointId: other }),
    ]) {
      expect(await reasonOf(call)).toEqual([Code.NotFound, "WEBHOOK_ENDPOINT_NOT_FOUND"]);
    }
    expect(
      await reasonOf(
        mine.createWebhookEndpoint({ tenantId: b?.id ?? "", url: "https://x.example.com/" }),
      ),
    ).toEqual([Code.NotFound, "TENANT_NOT_FOUND"]);
    expect(
      await reasonOf(
        mine.createWebhookEndpoint({ url: "https://x.example.com/", eventTypes: ["nope"] }),
      ),
    ).toEqual([Code.InvalidArgument, "WEBHOOK_ENDPOINT_INVALID"]);
    const listed = await mine.listWebhookEndpoints({});
    expect(listed.endpoints.map((e) => e.id)).toEqual([created.endpoint?.id]);
    await mine.deleteWebhookEndpoint({ endpointId: created.endpoint?.id ?? "" });
    expect((await mine.listWebhookEndpoints({})).endpoints).toEqual([]);
  });
});

describe("quota events", () => {
  for (const store of ["memory", "redis", "shards"] as const) {
    it(`warns once at 80 % of a tenant's Generate quota and tells when it is spent (${store})`, async () => {
      const redis = store === "memory" ? undefined : await startRedis();
      const second = store === "shards" ? await startRedis() : undefined;
      // On shards the quota's counter lives apart from the challenge: charged before the create.
      const where: Record<string, string> =
        redis === undefined
          ? {}
          : second === undefined
            ? { REDIS_URL: redis.url }
            : { REDIS_SHARD_URLS: `${redis.url},${second.url}` };
      const quotaServer = await startTestServer({
        ADMIN_TOKEN: testAdminToken,
        EVENT_FLUSH_MS: "20",
        TENANT_QUOTA_GENERATE: "5/1m",
        RATE_LIMIT_GENERATE_PER_IP: "off",
        ...where,
        ...(redis === undefined ? {} : { OTP_HMAC_SECRET: "q".repeat(40) }),
      });
      const previous = server;
      server = quotaServer;
      try {
        const mine = await tenantKey(`Quota ${store}`);
        const live = collect(mine.secret, { types: ["quota.warning", "quota.exhausted"] });
        await new Promise((r) => setTimeout(r, 100));
        const otp = createClient(OtpService, transport(mine.secret));
        for (let i = 0; i < 5; i++) await otp.generate({});
        const refused = await otp.generate({}).catch((e: unknown) => ConnectError.from(e));
        expect(refused).toBeInstanceOf(ConnectError);
        await expect
          .poll(() => live.seen.map((e) => e.type), { timeout: 3000 })
          .toEqual(["quota.warning", "quota.exhausted"]);
        expect(live.seen[0]?.data).toMatchObject({ bucket: "tenant_generate", percent: 80 });
        live.stop();
      } finally {
        server = previous;
        await quotaServer.close();
        await redis?.stop();
        await second?.stop();
      }
    });
  }
});
