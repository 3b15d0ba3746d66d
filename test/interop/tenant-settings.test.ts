import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type Client,
  Code,
  ConnectError,
  createClient,
  type Interceptor,
} from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService, ApiKeyKind, Scope } from "../../gen/otp/v1/admin_pb.js";
import { Channel } from "../../gen/otp/v1/channel_pb.js";
import { DeliveryService } from "../../gen/otp/v1/delivery_pb.js";
import { OtpService, VerifyResult } from "../../gen/otp/v1/otp_pb.js";
import type { TenantSettings, TenantSettingsSchema } from "../../gen/otp/v1/settings_pb.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// Two production replicas as separate processes on one Redis, every channel
// pointed at the provider fakes: what one replica's AdminService changes, the
// other applies; what a tenant configures, its calls show.
let redis: RedisInstance;
let fakes: ProviderFakes;
let replicaA: ServerProcess;
let replicaB: ServerProcess;

const bearer =
  (token: string, origin?: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    if (origin !== undefined) req.header.set("origin", origin);
    return next(req);
  };
const transport = (url: string, interceptors: Interceptor[]) =>
  createConnectTransport({ baseUrl: url, httpVersion: "1.1", interceptors });
const adminOn = (server: ServerProcess) =>
  createClient(AdminService, transport(server.url, [bearer(testAdminToken)]));
const otpOn = (server: ServerProcess, key: string, origin?: string) =>
  createClient(OtpService, transport(server.url, [bearer(key, origin)]));

beforeAll(async () => {
  [redis, fakes] = await Promise.all([startRedis(), startProviderFakes()]);
  const env = {
    ...productionEnv(),
    ...providerEnv(fakes),
    REDIS_URL: redis.url,
    LOG_LEVEL: "warn",
    // One process per replica, so /metrics answers for the process that served the calls.
    WORKERS: "1",
  };
  [replicaA, replicaB] = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 60_000);

afterAll(async () => {
  for (const p of [replicaA, replicaB]) p?.child.kill("SIGTERM");
  await Promise.all([replicaA?.exited, replicaB?.exited]);
  await Promise.all([redis?.stop(), fakes?.close()]);
});

/** A new tenant with settings and a secret key; returns its id and key. */
async function tenant(
  settings: MessageInitShape<typeof TenantSettingsSchema> = {},
  kind = ApiKeyKind.SECRET,
): Promise<{ id: string; key: string; publishable: string }> {
  const admin = adminOn(replicaA);
  const id = (await admin.createTenant({ name: "settings test" })).tenant?.id ?? "";
  await admin.updateTenantSettings({ tenantId: id, settings });
  const created = await admin.createApiKey({
    tenantId: id,
    kind,
    scopes: [Scope.GENERATE, Scope.VERIFY, Scope.SEND],
  });
  const publishable = await admin.createApiKey({
    tenantId: id,
    kind: ApiKeyKind.PUBLISHABLE,
    scopes: [Scope.GENERATE, Scope.VERIFY],
    allowedOrigins: ["https://shop.example.com"],
  });
  return { id, key: created.secret, publishable: publishable.secret };
}

/** The code, reason and metadata of a refused call; "ok" when it was not refused. */
async function refusal(
  call: Promise<unknown>,
): Promise<[Code | "ok", string, Record<string, string>]> {
  try {
    await call;
    return ["ok", "", {}];
  } catch (e) {
    const err = ConnectError.from(e);
    const info = err.findDetails(ErrorInfoSchema)[0];
    return [err.code, info?.reason ?? "", { ...info?.metadata }];
  }
}

const telegramTo = (chat: string) => [{ channel: Channel.TELEGRAM, recipient: chat }];
const lastTelegramText = (chat: string) =>
  fakes.telegram
    .callsTo("sendMessage")
    .filter((c) => String(c.body.chat_id) === chat)
    .at(-1)?.body.text as string | undefined;
let chats = 700_000_000;
const newChat = () => String(++chats);

describe("tenant settings", () => {
  it("reaches the other replica within a second", async () => {
    const t = await tenant();
    const onB = otpOn(replicaB, t.key);
    expect((await onB.generate({})).code).toMatch(/^\d{6}$/);
    const started = Date.now();
    await adminOn(replicaA).updateTenantSettings({
      tenantId: t.id,
      settings: { codeDefaults: { codeLength: 8 } },
      updateMask: { paths: ["code_defaults"] },
    });
    let code = "";
    while (Date.now() - started < 1000) {
      code = (await onB.generate({})).code;
      if (code.length === 8) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(code).toMatch(/^\d{8}$/);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("gives two tenants their own brand, templates and code defaults", async () => {
    const acme = await tenant({
      brandName: "Acme",
      templates: [
        { channel: Channel.TELEGRAM, text: "{{brand}} login code: {{code}} ({{lifetime}})" },
      ],
      codeDefaults: { ttlSeconds: 300, codeLength: 4 },
    });
    const globex = await tenant({ brandName: "Globex" });
    const [chatA, chatG] = [newChat(), newChat()];
    const a = await otpOn(replicaB, acme.key).generate({ deliveryTargets: telegramTo(chatA) });
    const g = await otpOn(replicaB, globex.key).generate({ deliveryTargets: telegramTo(chatG) });
    expect(lastTelegramText(chatA)).toMatch(/^Acme login code: \d{4} \(5 minutes\)$/);
    expect(lastTelegramText(chatG)).toMatch(/^Globex: Your verification code is \d{6}\./);
    const lifetime = (r: typeof a) => Number(r.expiresAt?.seconds) - Date.now() / 1000;
    expect(lifetime(a)).toBeGreaterThan(290);
    expect(lifetime(g)).toBeLessThan(61);
    // A request's own value still wins, within the service's bounds.
    expect((await otpOn(replicaB, acme.key).generate({ codeLength: 6 })).code).toMatch(/^\d{6}$/);
    expect(await refusal(otpOn(replicaB, acme.key).generate({ ttlSeconds: 4000 }))).toEqual([
      Code.InvalidArgument,
      "TTL_INVALID",
      expect.anything(),
    ]);
  });

  it("ends a tenant's code SMS with its own autofill lines, and no one else's", async () => {
    const app = await tenant({
      codeDelivery: {
        smsRetrieverAppHash: "FA+9qCX9VSu",
        smsOriginBoundDomain: "login.acme.example",
      },
    });
    const plain = await tenant({});
    const sms = (to: string) => [{ channel: Channel.SMS, recipient: to }];
    const bodyTo = (to: string) =>
      fakes.twilio.messages.filter((m) => m.to === to).at(-1)?.body ?? "";
    await otpOn(replicaB, app.key).generate({ deliveryTargets: sms("+14155550181") });
    await otpOn(replicaB, plain.key).generate({ deliveryTargets: sms("+14155550182") });
    const code = /(\d{6})/.exec(bodyTo("+14155550181"))?.[1];
    expect(bodyTo("+14155550181").split("\n").slice(-2)).toEqual([
      "FA+9qCX9VSu",
      `@login.acme.example #${code}`,
    ]);
    expect(bodyTo("+14155550182")).not.toContain("@");
    expect(
      await refusal(
        adminOn(replicaA).updateTenantSettings({
          tenantId: app.id,
          settings: { codeDelivery: { smsOriginBoundDomain: "Not A Domain" } },
        }),
      ),
    ).toEqual([Code.InvalidArgument, "TENANT_SETTINGS_INVALID", expect.anything()]);
  });

  it("applies the same channels and templates to DeliveryService.Send", async () => {
    const t = await tenant({
      allowedChannels: [Channel.TELEGRAM],
      templates: [{ channel: Channel.TELEGRAM, text: "Hooli code {{code}}" }],
    });
    const delivery = createClient(DeliveryService, transport(replicaA.url, [bearer(t.key)]));
    const chat = newChat();
    await delivery.send({
      channel: Channel.TELEGRAM,
      recipient: chat,
      content: { case: "otp", value: { code: "7311", ttlSeconds: 60 } },
    });
    expect(lastTelegramText(chat)).toBe("Hooli code 7311");
    const email = { channel: Channel.EMAIL, recipient: "a@example.com" };
    expect(
      await refusal(delivery.send({ ...email, content: { case: "text", value: "hello" } })),
    ).toEqual([
      Code.PermissionDenied,
      "CHANNEL_NOT_ALLOWED",
      expect.objectContaining({ channel: "email" }),
    ]);
  });

  it("keeps each tenant to its channels and countries, or only reports them", async () => {
    const strict = await tenant({
      allowedChannels: [Channel.SMS],
      geo: { channels: [{ channel: Channel.SMS, countries: ["US"] }] },
    });
    const reporting = await tenant({
      geo: { channels: [{ channel: Channel.SMS, countries: ["US"] }], reportOnly: true },
    });
    const spain = [{ channel: Channel.SMS, recipient: "+34612345678" }];
    const strictOtp = otpOn(replicaA, strict.key);
    expect(await refusal(strictOtp.generate({ deliveryTargets: telegramTo(newChat()) }))).toEqual([
      Code.PermissionDenied,
      "CHANNEL_NOT_ALLOWED",
      expect.objectContaining({ channel: "telegram" }),
    ]);
    expect((await refusal(strictOtp.generate({ deliveryTargets: spain })))[1]).toBe(
      "COUNTRY_NOT_ALLOWED",
    );
    expect(
      (
        await strictOtp.generate({
          deliveryTargets: [{ channel: Channel.SMS, recipient: "+14155552671" }],
        })
      ).deliveryId,
    ).not.toBe("");
    // Report only: the Spanish number goes out, and the trail says it would not have.
    expect(
      (await otpOn(replicaA, reporting.key).generate({ deliveryTargets: spain })).deliveryId,
    ).not.toBe("");
    // Security events are written without holding the call up: wait for it.
    let reported: string[][] = [];
    for (let i = 0; i < 40 && reported.length === 0; i++) {
      const { events } = await adminOn(replicaA).listAuditEvents({
        filter: { tenantId: reporting.id, actionPrefix: "geo." },
      });
      reported = events.map((e) => [e.action, e.details.country ?? ""]);
      if (reported.length === 0) await new Promise((r) => setTimeout(r, 25));
    }
    expect(reported).toEqual([["geo.report_only", "ES"]]);
    const metrics = await (await fetch(`${replicaA.url}/metrics`)).text();
    expect(metrics).toMatch(/otp_geo_report_only_total\{[^}]*country="ES"[^}]*\} 1/);
  });

  it("applies a tenant's quota instead of the service's, to that tenant only", async () => {
    const limited = await tenant({ limits: { tenantGenerate: "3/1m" } });
    const other = await tenant();
    const otp = otpOn(replicaA, limited.key);
    for (let i = 0; i < 3; i++) await otp.generate({});
    expect(await refusal(otp.generate({}))).toEqual([
      Code.ResourceExhausted,
      "RATE_LIMITED",
      expect.objectContaining({ limit: "tenant_generate" }),
    ]);
    expect((await otpOn(replicaB, other.key).generate({})).id).not.toBe("");
    // GetUsage reports the tenant's own quota beside its counters.
    const usage = await adminOn(replicaB).getUsage({ tenantId: limited.id, days: 1 });
    const quota = usage.quotas.find((q) => q.name === "tenant_generate");
    expect([quota?.limit, quota?.windowSeconds]).toEqual([3n, 60n]);
  });

  it("applies a tenant's send quotas per recipient and per channel instead of the service's", async () => {
    const strict = await tenant({
      limits: { sendsPerRecipient: "1/1h", tenantSendsPerChannel: "3/24h" },
    });
    const open = await tenant();
    const chat = newChat();
    const strictOtp = otpOn(replicaA, strict.key);
    await strictOtp.generate({ deliveryTargets: telegramTo(chat) });
    expect(await refusal(strictOtp.generate({ deliveryTargets: telegramTo(chat) }))).toEqual([
      Code.ResourceExhausted,
      "RATE_LIMITED",
      expect.objectContaining({ limit: "sends" }),
    ]);
    // Two more chats fit the channel quota of three; the fourth message does not.
    await strictOtp.generate({ deliveryTargets: telegramTo(newChat()) });
    await strictOtp.generate({ deliveryTargets: telegramTo(newChat()) });
    expect((await refusal(strictOtp.generate({ deliveryTargets: telegramTo(newChat()) })))[1]).toBe(
      "RATE_LIMITED",
    );
    // The service's own per-recipient limit (5/1h) still holds for another tenant.
    const openOtp = otpOn(replicaB, open.key);
    for (let i = 0; i < 2; i++) await openOtp.generate({ deliveryTargets: telegramTo(chat) });
    const usage = await adminOn(replicaA).getUsage({ tenantId: strict.id, days: 1 });
    const telegram = usage.quotas.find((q) => q.name === "tenant_sends_telegram");
    expect([telegram?.limit, telegram?.windowSeconds]).toEqual([3n, 86_400n]);
  });

  it("counts rate-limit keys in the tenant's buckets and refuses unknown buckets", async () => {
    const t = await tenant({ rateLimitBuckets: [{ name: "user", limit: "2/1m" }] });
    const otp = otpOn(replicaA, t.key);
    const keys = (key: string) => [{ bucket: "user", key }];
    await otp.generate({ rateLimitKeys: keys("203.0.113.9") });
    await otpOn(replicaB, t.key).generate({ rateLimitKeys: keys("203.0.113.9") });
    expect(await refusal(otp.generate({ rateLimitKeys: keys("203.0.113.9") }))).toEqual([
      Code.ResourceExhausted,
      "RATE_LIMITED",
      expect.objectContaining({ limit: "key:user" }),
    ]);
    expect((await otp.generate({ rateLimitKeys: keys("203.0.113.10") })).id).not.toBe("");
    expect(await refusal(otp.generate({ rateLimitKeys: [{ bucket: "nope", key: "x" }] }))).toEqual([
      Code.InvalidArgument,
      "RATE_LIMIT_KEY_INVALID",
      expect.objectContaining({ field: "rate_limit_keys[0].bucket" }),
    ]);
  });

  it("refuses invalid settings with a reason and keeps what was stored", async () => {
    const t = await tenant({ brandName: "Kept" });
    const admin = adminOn(replicaA);
    const update = (
      settings: MessageInitShape<typeof TenantSettingsSchema>,
      paths: string[] = [],
    ) => refusal(admin.updateTenantSettings({ tenantId: t.id, settings, updateMask: { paths } }));
    expect(await update({ templates: [{ channel: Channel.SMS, text: "no placeholder" }] })).toEqual(
      [
        Code.InvalidArgument,
        "TEMPLATE_CODE_MISSING",
        expect.objectContaining({ field: "settings.templates[0].text" }),
      ],
    );
    expect((await update({ limits: { tenantGenerate: "lots" } }))[1]).toBe(
      "TENANT_SETTINGS_INVALID",
    );
    expect((await update({ codeDefaults: { ttlSeconds: 5000 } }))[1]).toBe(
      "TENANT_SETTINGS_INVALID",
    );
    expect((await update({ brandName: "x".repeat(41) }))[1]).toBe("TENANT_SETTINGS_INVALID");
    expect((await update({}, ["brand"]))[1]).toBe("UPDATE_MASK_INVALID");
    expect(await refusal(admin.getTenantSettings({ tenantId: "ten_unknown" }))).toEqual([
      Code.NotFound,
      "TENANT_NOT_FOUND",
      expect.anything(),
    ]);
    const stored: TenantSettings | undefined = (await admin.getTenantSettings({ tenantId: t.id }))
      .settings;
    expect(stored?.brandName).toBe("Kept");
    expect(stored?.templates).toEqual([]);
  });

  it("lets a key with SCOPE_ADMIN_READ read its own tenant's settings only", async () => {
    const t = await tenant({ brandName: "Readable" });
    const other = await tenant({ brandName: "Hidden" });
    const admin = adminOn(replicaA);
    const reader = (
      await admin.createApiKey({
        tenantId: t.id,
        kind: ApiKeyKind.SECRET,
        scopes: [Scope.ADMIN_READ],
      })
    ).secret;
    const asKey = createClient(AdminService, transport(replicaB.url, [bearer(reader)]));
    expect((await asKey.getTenantSettings({})).settings?.brandName).toBe("Readable");
    expect((await asKey.getTenantSettings({ tenantId: t.id })).settings?.brandName).toBe(
      "Readable",
    );
    expect((await refusal(asKey.getTenantSettings({ tenantId: other.id })))[1]).toBe(
      "TENANT_NOT_FOUND",
    );
    expect(
      (
        await refusal(asKey.updateTenantSettings({ tenantId: t.id, settings: { brandName: "x" } }))
      )[0],
    ).toBe(Code.Unauthenticated);
  });

  it("lets a tenant's admin key change its own settings, but not its quotas", async () => {
    const t = await tenant();
    const other = await tenant();
    const manager = (
      await adminOn(replicaA).createApiKey({
        tenantId: t.id,
        kind: ApiKeyKind.SECRET,
        scopes: [Scope.ADMIN],
      })
    ).secret;
    const asKey = createClient(AdminService, transport(replicaB.url, [bearer(manager)]));
    const updated = await asKey.updateTenantSettings({ settings: { brandName: "Self-served" } });
    expect(updated.settings?.brandName).toBe("Self-served");
    expect(
      await refusal(
        asKey.updateTenantSettings({ settings: { limits: { tenantGenerate: "off" } } }),
      ),
    ).toEqual([Code.PermissionDenied, "PERMISSION_DENIED", { need: "operator" }]);
    expect(
      (
        await refusal(
          asKey.updateTenantSettings({ tenantId: other.id, settings: { brandName: "x" } }),
        )
      )[1],
    ).toBe("TENANT_NOT_FOUND");
  });

  it("audits which fields changed, never their values", async () => {
    const t = await tenant();
    await adminOn(replicaB).updateTenantSettings({
      tenantId: t.id,
      settings: { brandName: "Initech", allowedChannels: [Channel.SMS] },
    });
    const events = await adminOn(replicaA).listAuditEvents({
      filter: { tenantId: t.id, actionPrefix: "tenant.settings" },
    });
    expect(events.events[0]?.details).toEqual({ fields: "brand_name,allowed_channels" });
  });
});

describe("limits that fit who calls", () => {
  it("lets a backend's 1,000 Generates for 1,000 people from one address through, and limits a browser's burst", async () => {
    const t = await tenant();
    const server = otpOn(replicaA, t.key);
    let passed = 0;
    for (let batch = 0; batch < 40; batch++) {
      const results = await Promise.all(
        Array.from({ length: 25 }, () =>
          server.generate({ deliveryTargets: telegramTo(newChat()) }).then(() => 1),
        ),
      );
      passed += results.length;
    }
    expect(passed).toBe(1000);
    const browser = otpOn(replicaA, t.publishable, "https://shop.example.com");
    const outcomes: (Code | "ok")[] = [];
    for (let i = 0; i < 6; i++) {
      outcomes.push(
        (await refusal(browser.generate({ deliveryTargets: telegramTo(newChat()) })))[0],
      );
    }
    expect(outcomes).toEqual(["ok", "ok", "ok", "ok", "ok", Code.ResourceExhausted]);
    const [, reason, metadata] = await refusal(
      browser.generate({ deliveryTargets: telegramTo(newChat()) }),
    );
    expect([reason, metadata.limit]).toEqual(["RATE_LIMITED", "generate_ip_publishable"]);
  }, 120_000);
});

describe("verify by recipient", () => {
  it("verifies the latest code sent to a recipient on either replica", async () => {
    const t = await tenant();
    const chat = newChat();
    await otpOn(replicaA, t.key).generate({ deliveryTargets: telegramTo(chat) });
    const latest = await otpOn(replicaA, t.key).generate({ deliveryTargets: telegramTo(chat) });
    const code = /\b(\d{6})\b/.exec(lastTelegramText(chat) ?? "")?.[1] ?? "";
    const verified = await otpOn(replicaB, t.key).verify({
      recipient: chat,
      channel: Channel.TELEGRAM,
      code,
    });
    expect([verified.result, verified.id]).toEqual([VerifyResult.VERIFIED, latest.id]);
    const browser = otpOn(replicaA, t.publishable, "https://shop.example.com");
    expect(
      await refusal(browser.verify({ recipient: chat, channel: Channel.TELEGRAM, code })),
    ).toEqual([Code.PermissionDenied, "PERMISSION_DENIED", { need: "challenge id" }]);
    expect(await refusal(otpOn(replicaB, t.key).verify({ recipient: chat, code }))).toEqual([
      Code.InvalidArgument,
      "VERIFY_SUBJECT_INVALID",
      expect.anything(),
    ]);
    expect(
      (
        await refusal(
          otpOn(replicaB, t.key).verify({ recipient: newChat(), channel: Channel.TELEGRAM, code }),
        )
      )[1],
    ).toBe("CHALLENGE_NOT_FOUND");
  });
});

describe("anonymous callers", () => {
  it("are still limited per address", async () => {
    const dev = await spawnServer({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: "anon:",
      OTP_HMAC_SECRET: "a".repeat(40),
    });
    try {
      const anonymous: Client<typeof OtpService> = createClient(OtpService, transport(dev.url, []));
      const outcomes: (Code | "ok")[] = [];
      for (let i = 0; i < 11; i++) outcomes.push((await refusal(anonymous.generate({})))[0]);
      expect(outcomes.slice(0, 10).every((o) => o === "ok")).toBe(true);
      expect(await refusal(anonymous.generate({}))).toEqual([
        Code.ResourceExhausted,
        "RATE_LIMITED",
        expect.objectContaining({ limit: "generate_ip" }),
      ]);
    } finally {
      dev.child.kill("SIGTERM");
      await dev.exited;
    }
  }, 60_000);
});
