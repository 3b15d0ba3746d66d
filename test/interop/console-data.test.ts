import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../support/api-keys.js";
import { callJson, errorReason } from "../support/connect-json.js";
import { openJsonStream } from "../support/connect-stream.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// Two replicas of the service in production mode on one Redis, driven by
// hand-built Connect JSON, the way an outside client would.
let redis: RedisInstance;
let fakes: ProviderFakes;
let a: ServerProcess;
let b: ServerProcess;
const operator = { authorization: `Bearer ${testAdminToken}` };
let t1: { id: string; key: string; reader: string };
let t2: { id: string; key: string };

async function tenantWithKeys(url: string, name: string) {
  const made = await callJson(url, "otp.v1.AdminService/CreateTenant", { name }, operator);
  const id = (made.body.tenant as { id: string }).id;
  const key = await createApiKey(url, testAdminToken, {
    tenantId: id,
    scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY"],
  });
  const reader = await createApiKey(url, testAdminToken, {
    tenantId: id,
    scopes: ["SCOPE_ADMIN_READ"],
  });
  return { id, key, reader };
}

const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

beforeAll(async () => {
  [redis, fakes] = await Promise.all([startRedis(), startProviderFakes()]);
  const env = {
    ...productionEnv(),
    ...providerEnv(fakes),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: "console:",
    LOG_LEVEL: "warn",
    WORKERS: "1",
    RATE_LIMIT_GENERATE_PER_IP: "off",
    RATE_LIMIT_VERIFY_PER_IP: "off",
  };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
  t1 = await tenantWithKeys(a.url, "tenant one");
  t2 = await tenantWithKeys(a.url, "tenant two");
}, 60_000);

afterAll(async () => {
  for (const server of [a, b]) server?.child.kill("SIGTERM");
  await Promise.all([a?.exited, b?.exited]);
  await Promise.all([redis?.stop(), fakes?.close()]);
});

/** One series' value summed over every label set with `labels`, and over both replicas' /metrics. */
async function metricSum(name: string, labels: Record<string, string> = {}): Promise<number> {
  let total = 0;
  for (const server of [a, b]) {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    for (const line of text.split("\n")) {
      if (!line.startsWith(`${name}{`)) continue;
      if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) {
        total += Number(line.slice(line.lastIndexOf(" ") + 1));
      }
    }
  }
  return total;
}

const overview = async (headers: Record<string, string>, body: Record<string, unknown> = {}) =>
  callJson(
    a.url,
    "otp.v1.AdminService/GetOverview",
    { window: "ACTIVITY_WINDOW_HOUR", ...body },
    headers,
  );

describe("console data across two replicas", () => {
  it("counts generated, verified and conversion as sent, by channel, country and tenant, agreeing with /metrics", async () => {
    const generate = (url: string, key: string, targets: unknown[] = []) =>
      callJson(url, "otp.v1.OtpService/Generate", { deliveryTargets: targets }, bearer(key));
    const verify = (url: string, key: string, id: unknown, code: unknown) =>
      callJson(url, "otp.v1.OtpService/Verify", { id, code }, bearer(key));
    // Tenant one: three codes returned, two by SMS to US numbers, one by email.
    const plain = await Promise.all([a, b, a].map((s) => generate(s.url, t1.key)));
    const sms = [
      await generate(a.url, t1.key, [{ channel: "CHANNEL_SMS", recipient: "+14155552671" }]),
      await generate(b.url, t1.key, [{ channel: "CHANNEL_SMS", recipient: "+14155552672" }]),
    ];
    const mail = await generate(b.url, t1.key, [
      { channel: "CHANNEL_EMAIL", recipient: "alice@example.com" },
    ]);
    for (const r of [...plain, ...sms, mail]) expect(r.status).toBe(200);
    // Tenant two: one code, verified.
    const other = await generate(b.url, t2.key);
    expect((await verify(a.url, t2.key, other.body.id, other.body.code)).status).toBe(200);

    await verify(b.url, t1.key, plain[0]?.body.id, plain[0]?.body.code);
    await verify(a.url, t1.key, plain[1]?.body.id, plain[1]?.body.code);
    const wrong = await verify(a.url, t1.key, plain[2]?.body.id, "000000");
    expect(wrong.body.result).toBe("VERIFY_RESULT_INVALID_CODE");
    const smsCode = /\d{6}/.exec(fakes.twilio.messages[0]?.body ?? "")?.[0];
    const smsVerified = await verify(b.url, t1.key, sms[0]?.body.id, smsCode);
    expect(smsVerified.body.result).toBe("VERIFY_RESULT_VERIFIED");

    // Twilio reports the first SMS delivered, to the other replica.
    const firstSms = fakes.twilio.messages[0];
    if (firstSms === undefined) throw new Error("no SMS sent");
    expect(await fakes.twilio.postStatusCallback(firstSms, "delivered", { postTo: a.url })).toBe(
      204,
    );

    // Each replica writes its counts within a flush interval (1 s).
    await new Promise((r) => setTimeout(r, 1_500));
    const all = await overview(operator);
    expect(all.status).toBe(200);
    expect(all.body).toMatchObject({
      generated: "7",
      verified: "4",
      conversion: 4 / 7,
      verificationsByResult: { verified: "4", invalid_code: "1" },
    });
    const segments = (list: unknown) =>
      Object.fromEntries(
        (list as { key: string; generated?: string; verified?: string }[]).map((s) => [
          s.key,
          [Number(s.generated ?? 0), Number(s.verified ?? 0)],
        ]),
      );
    expect(segments(all.body.byChannel)).toEqual({ none: [4, 3], sms: [2, 1], email: [1, 0] });
    expect(segments(all.body.byCountry)).toEqual({ other: [4, 3], US: [2, 1], email: [1, 0] });
    expect(segments(all.body.byTenant)).toEqual({ [t1.id]: [6, 3], [t2.id]: [1, 1] });
    expect(Number(all.body.activeChallenges)).toBe(3);
    expect(all.body.deliveries).toEqual(
      expect.arrayContaining([
        { channel: "sms", status: "accepted", count: "2" },
        { channel: "email", status: "accepted", count: "1" },
      ]),
    );

    // The same figures, summed over both replicas' /metrics.
    expect(await metricSum("otp_challenges_generated_total")).toBe(7);
    expect(await metricSum("otp_verifications_total", { result: "verified" })).toBe(4);
    expect(await metricSum("otp_verifications_total", { result: "invalid_code" })).toBe(1);
    expect(await metricSum("otp_deliveries_total", { channel: "sms", outcome: "accepted" })).toBe(
      2,
    );
    const generateCalls = await metricSum("otp_rpc_duration_seconds_count", {
      method: "otp.v1.OtpService/Generate",
    });
    const byMethod = all.body.latencyByMethod as {
      method: string;
      calls: string;
      p50Ms: number;
      p95Ms: number;
    }[];
    const generateLatency = byMethod.find((m) => m.method === "otp.v1.OtpService/Generate");
    expect(Number(generateLatency?.calls)).toBe(generateCalls);
    expect(generateLatency?.p95Ms).toBeGreaterThan(0);
    // Same buckets: p50 and p95 read from both replicas' /metrics histogram agree.
    const cumulative = await Promise.all(
      [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10].map(async (le) => ({
        le,
        count: await metricSum("otp_rpc_duration_seconds_bucket", {
          method: "otp.v1.OtpService/Generate",
          le: String(le),
        }),
      })),
    );
    const quantileMs = (q: number) =>
      (cumulative.find((b) => b.count >= q * generateCalls)?.le ?? 10) * 1000;
    expect(generateLatency?.p50Ms).toBe(quantileMs(0.5));
    expect(generateLatency?.p95Ms).toBe(quantileMs(0.95));
    expect(all.body.latencyP95Ms).toBeGreaterThan(0);

    // A tenant's admin-read key sees its own tenant only.
    const own = await overview(bearer(t1.reader));
    expect(own.body).toMatchObject({ generated: "6", verified: "3" });
    // The status report is counted for the tenant whose delivery it is.
    expect(own.body.deliveries).toEqual(
      expect.arrayContaining([{ channel: "sms", status: "delivered", count: "1" }]),
    );
    expect(segments(own.body.byTenant)).toEqual({ [t1.id]: [6, 3] });
    const theirs = await overview(bearer(t1.reader), { tenantId: t2.id });
    expect(theirs.status).toBe(404);
    expect(errorReason(theirs.body)).toBe("TENANT_NOT_FOUND");
    // The operator may filter.
    const filtered = await overview(operator, { tenantId: t2.id });
    expect(filtered.body).toMatchObject({ generated: "1", verified: "1", conversion: 1 });

    const series = await callJson(
      a.url,
      "otp.v1.AdminService/GetTimeSeries",
      { metric: "ACTIVITY_METRIC_GENERATED", window: "ACTIVITY_WINDOW_HOUR" },
      operator,
    );
    const points = series.body.points as { value?: number }[];
    expect(points).toHaveLength(60);
    expect(points.reduce((n, p) => n + (p.value ?? 0), 0)).toBe(7);
  });

  it("streams a Generate made on the other replica within a second, masked and without its code", async () => {
    const watch = await openJsonStream(a.url, "otp.v1.AdminService/WatchActivity", {}, operator);
    const mine = await openJsonStream(
      a.url,
      "otp.v1.AdminService/WatchActivity",
      { kinds: ["ACTIVITY_KIND_GENERATE"] },
      bearer(t1.reader),
    );
    try {
      await watch.waitFor(() => true);
      await mine.waitFor(() => true);
      const started = Date.now();
      const made = await callJson(
        b.url,
        "otp.v1.OtpService/Generate",
        { deliveryTargets: [{ channel: "CHANNEL_SMS", recipient: "+14155552673" }] },
        bearer(t1.key),
      );
      const id = made.body.id as string;
      const seen = await watch.waitFor(
        (m) => (m.event as { challengeId?: string } | undefined)?.challengeId === id,
        1_000,
      );
      expect(Date.now() - started).toBeLessThan(1_000);
      expect(seen.event).toMatchObject({
        kind: "ACTIVITY_KIND_GENERATE",
        tenantId: t1.id,
        channel: "sms",
        recipientMasked: "+1******2673",
      });
      expect((seen.event as { replica: string }).replica).not.toBe("");

      // A provider's status report about it, made to replica B, reaches the feed on A.
      const sent = fakes.twilio.messages.at(-1);
      if (sent === undefined) throw new Error("no SMS sent");
      await fakes.twilio.postStatusCallback(sent, "delivered", { postTo: b.url });
      const report = await watch.waitFor((m) => {
        const e = m.event as { kind?: string; outcome?: string; challengeId?: string } | undefined;
        return (
          e?.kind === "ACTIVITY_KIND_DELIVERY" && e.outcome === "delivered" && e.challengeId === id
        );
      });
      expect(report.event).toMatchObject({ tenantId: t1.id, recipientMasked: "+1******2673" });

      const otherTenant = await callJson(b.url, "otp.v1.OtpService/Generate", {}, bearer(t2.key));
      await watch.waitFor(
        (m) =>
          (m.event as { challengeId?: string } | undefined)?.challengeId === otherTenant.body.id,
      );
      await mine.waitFor(
        (m) => (m.event as { challengeId?: string } | undefined)?.challengeId === id,
      );
      const tenants = mine.messages
        .map((m) => (m.event as { tenantId?: string } | undefined)?.tenantId)
        .filter((t) => t !== undefined);
      expect(new Set(tenants)).toEqual(new Set([t1.id]));

      const code = /\d{6}/.exec(fakes.twilio.messages.at(-1)?.body ?? "")?.[0] as string;
      for (const text of [watch.raw(), mine.raw()]) {
        expect(text).not.toContain("4155552673");
        expect(text).not.toContain(code);
        expect(text).not.toContain(t1.key);
      }
    } finally {
      watch.close();
      mine.close();
    }
  });

  it("streams an admin change made on the other replica, as the audit trail records it", async () => {
    const watch = await openJsonStream(
      a.url,
      "otp.v1.AdminService/WatchActivity",
      { kinds: ["ACTIVITY_KIND_ADMIN"] },
      operator,
    );
    try {
      await watch.waitFor(() => true);
      const made = await callJson(
        b.url,
        "otp.v1.AdminService/CreateTenant",
        { name: "made while watched" },
        operator,
      );
      const id = (made.body.tenant as { id: string }).id;
      const seen = await watch.waitFor(
        (m) => (m.event as { target?: string } | undefined)?.target === id,
        1_000,
      );
      expect(seen.event).toMatchObject({
        kind: "ACTIVITY_KIND_ADMIN",
        tenantId: id,
        action: "tenant.created",
        actor: "operator",
      });
      expect(watch.raw()).not.toContain(testAdminToken);
    } finally {
      watch.close();
    }
  });

  it("refuses another tenant's feed to a tenant's key, and the feed to a key without the scope", async () => {
    const theirs = await openJsonStream(
      a.url,
      "otp.v1.AdminService/WatchActivity",
      { tenantId: t2.id },
      bearer(t1.reader),
    );
    await expect(theirs.waitFor(() => true, 2_000)).rejects.toThrow(/stream ended/);
    expect(theirs.end).toMatchObject({ error: { code: "not_found" } });
    const noScope = await callJson(a.url, "otp.v1.AdminService/GetOverview", {}, bearer(t1.key));
    expect(noScope.status).toBe(403);
    expect(errorReason(noScope.body)).toBe("PERMISSION_DENIED");
  });

  it("reports store nodes, channels, workers, version and uptime to the operator only", async () => {
    const health = await callJson(a.url, "otp.v1.AdminService/GetSystemHealth", {}, operator);
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      version: "0.1.0",
      workers: 1,
      storeLayout: "single",
      storeNodes: [{ name: `127.0.0.1:${redis.port}/0`, reachable: true }],
    });
    expect(Number(health.body.uptimeSeconds ?? 0)).toBeGreaterThanOrEqual(0);
    const channels = health.body.channels as { channel: string; healthy?: boolean }[];
    expect(channels.find((c) => c.channel === "CHANNEL_SMS")?.healthy).toBe(true);
    const asTenant = await callJson(
      a.url,
      "otp.v1.AdminService/GetSystemHealth",
      {},
      bearer(t1.reader),
    );
    expect(asTenant.status).toBe(401);
  });
});
