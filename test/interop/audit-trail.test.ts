import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, errorReason, type JsonReply } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// Two replicas of the service, each its own process as `npm start` runs it,
// sharing one Redis; the operator drives them with hand-built Connect JSON and
// watches the trail live with @grpc/grpc-js.
const admin = "otp.v1.AdminService";
const operator = { authorization: `Bearer ${testAdminToken}` };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
let redis: RedisInstance;
let a: ServerProcess;
let b: ServerProcess;
let watchClient: grpc.Client &
  Record<string, (...args: unknown[]) => grpc.ClientReadableStream<unknown>>;

interface Event {
  id: string;
  actorKind: string;
  actorId: string;
  tenantId: string;
  action: string;
  target: string;
  outcome: string;
  requestId: string;
  sourceAddress: string;
  details: Record<string, string>;
}

beforeAll(async () => {
  redis = await startRedis();
  const env = {
    ...productionEnv(),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: "audit-interop:",
    API_KEY_LAST_USED_FLUSH_SECONDS: "1",
    RATE_LIMIT_GENERATE_PER_IP: "off",
    RATE_LIMIT_VERIFY_PER_IP: "off",
    TENANT_QUOTA_GENERATE: "off",
  };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  const definition = protoLoader.loadSync(["otp/v1/admin.proto"], {
    includeDirs: ["proto"],
    enums: String,
    defaults: true,
    longs: Number,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    otp: { v1: { AdminService: grpc.ServiceClientConstructor } };
  };
  watchClient = new loaded.otp.v1.AdminService(
    `127.0.0.1:${b.port}`,
    grpc.credentials.createInsecure(),
  ) as typeof watchClient;
}, 60_000);

afterAll(async () => {
  watchClient?.close();
  for (const server of [a, b]) server?.child.kill("SIGTERM");
  await Promise.all([a?.exited, b?.exited]);
  await redis?.stop();
});

const call = (server: ServerProcess, method: string, body: unknown, headers = operator) =>
  callJson(server.url, `${admin}/${method}`, body, headers);

async function ok(reply: Promise<JsonReply>): Promise<JsonReply> {
  const res = await reply;
  expect([res.status, res.body.code]).toEqual([200, undefined]);
  return res;
}

// The request id of every Generate made, so an audit entry can be traced to its call.
const requestIds = new Set<string>();
const generate = async (server: ServerProcess, secret: string) => {
  const res = await callJson(server.url, "otp.v1.OtpService/Generate", {}, bearer(secret));
  requestIds.add(res.headers.get("x-request-id") ?? "none");
  return res;
};
const refusal = async (server: ServerProcess, secret: string) => {
  const res = await generate(server, secret);
  return res.status === 200 ? "ok" : `${res.body.code}/${errorReason(res.body)}`;
};

/** Every event of a tenant, newest first, walked page by page. */
async function allEvents(server: ServerProcess, filter: Record<string, unknown>, pageSize = 2) {
  const events: Event[] = [];
  let pageToken = "";
  do {
    const page = await ok(call(server, "ListAuditEvents", { filter, pageSize, pageToken }));
    const got = (page.body.events ?? []) as Event[];
    expect(got.length).toBeLessThanOrEqual(pageSize);
    events.push(...got);
    pageToken = (page.body.nextPageToken as string | undefined) ?? "";
  } while (pageToken !== "");
  return events;
}

/** Opens WatchAuditEvents on replica b and collects what it streams. */
async function watch(filter: Record<string, unknown>) {
  const seen: Event[] = [];
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${testAdminToken}`);
  const stream = watchClient.WatchAuditEvents?.({ filter }, metadata) as grpc.ClientReadableStream<{
    event: Event;
  }>;
  stream.on("data", (m: { event: Event }) => seen.push(m.event));
  stream.on("error", () => {});
  // The stream is live once an entry appended after it opened arrives: poke until one does.
  for (let i = 0; i < 50 && seen.length === 0; i++) {
    await call(a, "ListTenants", {});
    await call(a, "CreateTenant", { name: `watch probe ${i}` });
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(seen.length).toBeGreaterThan(0);
  seen.length = 0;
  return { seen, stop: () => stream.cancel() };
}

describe("tenants, keys and the audit trail across two replicas", () => {
  it("audits every change with actor, request id and masked address, refuses suspended, expired, revoked and deleted keys on every replica within a second, and streams it all live", async () => {
    const live = await watch({ actionPrefix: "" });
    const created = await ok(call(a, "CreateTenant", { name: "Audited" }));
    const tenantId = (created.body.tenant as { id: string }).id;
    const createdRequestId = created.headers.get("x-request-id");
    await ok(call(b, "RenameTenant", { tenantId, name: "Audited Inc" }));
    const key = await ok(
      call(a, "CreateApiKey", {
        tenantId,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_GENERATE"],
      }),
    );
    const secret = key.body.secret as string;
    const keyId = (key.body.key as { id: string }).id;
    for (const server of [a, b]) expect(await refusal(server, secret)).toBe("ok");

    // Suspended on one replica: refused on both within a second, with a reason of its own.
    await ok(call(a, "SuspendTenant", { tenantId, reason: "unpaid invoice" }));
    for (const server of [a, b]) {
      await expect
        .poll(() => refusal(server, secret), { timeout: 1_000, interval: 50 })
        .toBe("permission_denied/TENANT_SUSPENDED");
    }
    await ok(call(b, "ResumeTenant", { tenantId }));
    for (const server of [a, b]) {
      await expect.poll(() => refusal(server, secret), { timeout: 1_000, interval: 50 }).toBe("ok");
    }

    // Last use, written in batches every second, shows on the other replica.
    await expect
      .poll(
        async () => {
          const listed = await call(a, "ListApiKeys", { tenantId });
          return typeof (listed.body.keys as { lastUsedAt?: string }[])[0]?.lastUsedAt;
        },
        { timeout: 5_000, interval: 200 },
      )
      .toBe("string");

    // Revoked on b: refused on a within a second; its use is audited once, however often tried.
    await ok(call(b, "RevokeApiKey", { keyId }));
    await expect
      .poll(() => refusal(a, secret), { timeout: 1_000, interval: 50 })
      .toBe("unauthenticated/UNAUTHENTICATED");
    for (let i = 0; i < 20; i++) await generate(a, secret);

    // An expiring key works until its time, then is refused everywhere as expired.
    const expiring = await ok(
      call(a, "CreateApiKey", {
        tenantId,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_GENERATE"],
        expiresAt: new Date(Date.now() + 1_500).toISOString(),
      }),
    );
    const expiringSecret = expiring.body.secret as string;
    expect(await refusal(b, expiringSecret)).toBe("ok");
    for (const server of [a, b]) {
      await expect
        .poll(() => refusal(server, expiringSecret), { timeout: 3_000, interval: 100 })
        .toBe("unauthenticated/API_KEY_EXPIRED");
    }
    // Its expiry is in the trail once, written by whichever replica claimed the timer.
    const expiringId = (expiring.body.key as { id: string }).id;
    await expect
      .poll(async () =>
        (await allEvents(a, { tenantId, actionPrefix: "key.expired" }, 10)).map((e) => [
          e.target,
          e.actorKind,
        ]),
      )
      .toEqual([[expiringId, "AUDIT_ACTOR_KIND_SYSTEM"]]);

    // A deleted key, and a deleted tenant's keys, fail on the other replica within a second.
    const doomed = await ok(
      call(a, "CreateApiKey", {
        tenantId,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_GENERATE"],
      }),
    );
    const doomedSecret = doomed.body.secret as string;
    expect(await refusal(b, doomedSecret)).toBe("ok");
    await ok(call(a, "DeleteApiKey", { keyId: (doomed.body.key as { id: string }).id }));
    await expect
      .poll(() => refusal(b, doomedSecret), { timeout: 1_000, interval: 50 })
      .toBe("unauthenticated/UNAUTHENTICATED");
    const last = await ok(
      call(a, "CreateApiKey", {
        tenantId,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_GENERATE"],
      }),
    );
    const lastSecret = last.body.secret as string;
    expect(await refusal(b, lastSecret)).toBe("ok");
    const deleted = await ok(call(a, "DeleteTenant", { tenantId }));
    expect((deleted.body.deletedKeyIds as string[]).length).toBe(3);
    await expect
      .poll(() => refusal(b, lastSecret), { timeout: 1_000, interval: 50 })
      .toBe("unauthenticated/UNAUTHENTICATED");
    expect((await call(b, "ListApiKeys", { tenantId })).body.code).toBe("not_found");

    // The trail, listed two at a time, oldest last.
    const events = await allEvents(b, { tenantId });
    const actions = events.map((e) => e.action).reverse();
    expect(actions.filter((x) => !x.startsWith("key.used"))).toEqual([
      "tenant.created",
      "tenant.renamed",
      "key.created",
      "tenant.suspended",
      "tenant.resumed",
      "key.revoked",
      "key.created",
      "key.expired",
      "key.created",
      "key.deleted",
      "key.created",
      "key.deleted",
      "key.deleted",
      "key.deleted",
      "tenant.deleted",
    ]);
    const first = events.at(-1) as Event;
    expect(first).toMatchObject({
      actorKind: "AUDIT_ACTOR_KIND_OPERATOR",
      actorId: "admin",
      tenantId,
      target: tenantId,
      outcome: "AUDIT_OUTCOME_SUCCESS",
      sourceAddress: "127.0.0.0/24",
      details: { name: "Audited" },
    });
    expect(first.requestId).toBe(createdRequestId);
    const suspended = events.find((e) => e.action === "tenant.suspended");
    expect(suspended?.details).toEqual({ reason: "unpaid invoice" });

    // Security events: the revoked key's use, once, with the refused call's request id.
    const usedAfterRevocation = events.filter((e) => e.action === "key.used_after_revocation");
    expect(usedAfterRevocation).toHaveLength(1);
    expect(usedAfterRevocation[0]).toMatchObject({
      actorKind: "AUDIT_ACTOR_KIND_API_KEY",
      actorId: keyId,
      target: keyId,
      outcome: "AUDIT_OUTCOME_REFUSED",
      sourceAddress: "127.0.0.0/24",
    });
    expect(requestIds.has(usedAfterRevocation[0]?.requestId ?? "")).toBe(true);
    // One entry per key and minute across both replicas, however many calls were refused.
    for (const action of ["key.used_while_tenant_suspended", "key.used_after_expiry"]) {
      expect(events.filter((e) => e.action === action)).toHaveLength(1);
    }

    // Filters: by action prefix and by actor.
    const keyEvents = await allEvents(a, { tenantId, actionPrefix: "key.revoked" }, 10);
    expect(keyEvents.map((e) => e.target)).toEqual([keyId]);
    const byKey = await allEvents(a, { actorKind: "AUDIT_ACTOR_KIND_API_KEY", actorId: keyId }, 10);
    expect(byKey.map((e) => e.action)).toEqual([
      "key.used_after_revocation",
      "key.used_while_tenant_suspended",
    ]);

    // The watcher on b saw every change made on a and b, in order, as it happened.
    await expect
      .poll(() => live.seen.filter((e) => e.tenantId === tenantId).length, { timeout: 3_000 })
      .toBe(events.length);
    expect(live.seen.filter((e) => e.tenantId === tenantId).map((e) => e.id)).toEqual(
      events.map((e) => e.id).reverse(),
    );
    live.stop();

    // Nothing secret in the trail: no key secret, no admin token.
    const exported = await exportAll(a);
    expect(exported).toContain(tenantId);
    for (const value of [secret, expiringSecret, doomedSecret, lastSecret, testAdminToken]) {
      expect(exported.includes(value)).toBe(false);
    }
  });

  it("audits a challenge lock-out and a burst of refused credentials, once each", async () => {
    const tenant = await ok(call(a, "CreateTenant", { name: "Locked" }));
    const tenantId = (tenant.body.tenant as { id: string }).id;
    const key = await ok(
      call(a, "CreateApiKey", {
        tenantId,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY"],
      }),
    );
    const secret = key.body.secret as string;
    const made = await callJson(
      a.url,
      "otp.v1.OtpService/Generate",
      { maxAttempts: 1 },
      bearer(secret),
    );
    const id = made.body.id as string;
    const wrong = { id, code: (made.body.code as string) === "000000" ? "111111" : "000000" };
    for (let i = 0; i < 3; i++) {
      await callJson(b.url, "otp.v1.OtpService/Verify", wrong, bearer(secret));
    }
    await expect
      .poll(async () => (await allEvents(a, { tenantId, actionPrefix: "challenge." }, 50)).length)
      .toBe(1);
    const [locked] = await allEvents(a, { tenantId, actionPrefix: "challenge." }, 50);
    expect(locked).toMatchObject({
      action: "challenge.locked_out",
      target: id,
      outcome: "AUDIT_OUTCOME_REFUSED",
    });

    // 25 calls with a key nobody issued, spread over both replicas: one burst entry.
    for (let i = 0; i < 25; i++) {
      await generate(i % 2 === 0 ? a : b, `sk_live_${"x".repeat(40)}`);
    }
    await expect
      .poll(async () => (await allEvents(a, { actionPrefix: "refusals.burst" }, 50)).length)
      .toBe(1);
    const [burst] = await allEvents(a, { actionPrefix: "refusals.burst" }, 50);
    expect(burst?.actorKind).toBe("AUDIT_ACTOR_KIND_SYSTEM");
    expect(Number(burst?.details.count)).toBeGreaterThanOrEqual(20);
  });

  it("refuses a tenant's admin-read key other tenants' events, and bad filters and page tokens", async () => {
    const tenant = await ok(call(a, "CreateTenant", { name: "Reader" }));
    const tenantId = (tenant.body.tenant as { id: string }).id;
    const key = await ok(
      call(a, "CreateApiKey", {
        tenantId,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_ADMIN_READ"],
      }),
    );
    const reader = bearer(key.body.secret as string);
    const own = await ok(call(b, "ListAuditEvents", { pageSize: 50 }, reader));
    const tenants = new Set((own.body.events as Event[]).map((e) => e.tenantId));
    expect([...tenants]).toEqual([tenantId]);
    const other = await call(b, "ListAuditEvents", { filter: { tenantId: "ten_other" } }, reader);
    expect([other.body.code, errorReason(other.body)]).toEqual(["not_found", "TENANT_NOT_FOUND"]);
    const change = await call(b, "SuspendTenant", { tenantId }, reader);
    expect(errorReason(change.body)).toBe("UNAUTHENTICATED");
    const badToken = await call(b, "ListAuditEvents", { pageToken: "not-a-token" });
    expect([badToken.body.code, errorReason(badToken.body)]).toEqual([
      "invalid_argument",
      "PAGE_TOKEN_INVALID",
    ]);
    const badSize = await call(b, "ListAuditEvents", { pageSize: 501 });
    expect(errorReason(badSize.body)).toBe("PAGE_SIZE_INVALID");
    const backwards = await call(b, "ListAuditEvents", {
      filter: { since: "2026-01-02T00:00:00Z", until: "2026-01-01T00:00:00Z" },
    });
    expect(errorReason(backwards.body)).toBe("AUDIT_FILTER_INVALID");
    const past = await call(a, "CreateApiKey", {
      tenantId,
      kind: "API_KEY_KIND_SECRET",
      scopes: ["SCOPE_GENERATE"],
      expiresAt: "2020-01-01T00:00:00Z",
    });
    expect([past.body.code, errorReason(past.body)]).toEqual([
      "invalid_argument",
      "API_KEY_INVALID",
    ]);
  });
});

/** ExportAuditEvents over Connect with hand-built envelopes: the JSON lines it streams, joined. */
async function exportAll(server: ServerProcess): Promise<string> {
  const body = Buffer.from(JSON.stringify({ filter: {} }));
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]);
  frame.writeUInt32BE(body.length, 1);
  const res = await fetch(`${server.url}/${admin}/ExportAuditEvents`, {
    method: "POST",
    headers: { "content-type": "application/connect+json", ...operator },
    body: frame,
  });
  const bytes = Buffer.from(await res.arrayBuffer());
  let lines = "";
  for (let at = 0; at + 5 <= bytes.length; ) {
    const flags = bytes[at] ?? 0;
    const length = bytes.readUInt32BE(at + 1);
    const message = JSON.parse(bytes.subarray(at + 5, at + 5 + length).toString("utf8"));
    if ((flags & 0x02) === 0) lines += message.jsonLines;
    else expect(message.error).toBeUndefined();
    at += 5 + length;
  }
  for (const line of lines.trimEnd().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
  return lines;
}
