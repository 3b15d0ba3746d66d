import { randomInt } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson } from "../support/connect-json.js";
import { openJsonStream } from "../support/connect-stream.js";
import { consoleSignIn, sessionHeaders } from "../support/console-session.js";
import { captureEventStream, dumpRedisKeys } from "../support/event-capture.js";
import { type OtlpCollector, startOtlpCollector } from "../support/otlp-collector.js";
import { gatewayAndVoiceEnv, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { run, type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

const secret = `hmac-secret-${"Q".repeat(30)}`;
const phone = "+14155559876";
const email = "secret.person@example.com";
const bindingValue = "binding-value-8d1f3e";
const adminToken = `admin-token-${"Z".repeat(32)}`;
const operator = { authorization: `Bearer ${adminToken}` };

let redis: RedisInstance;
let collector: OtlpCollector;
let server: ServerProcess;
let receiver: WebhookReceiver;

beforeAll(async () => {
  [redis, collector, receiver] = await Promise.all([
    startRedis(),
    startOtlpCollector(),
    startWebhookReceiver(),
  ]);
  server = await spawnServer({
    REDIS_URL: redis.url,
    OTP_HMAC_SECRET: secret,
    OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
    OTEL_BSP_SCHEDULE_DELAY: "100",
    LOG_LEVEL: "trace",
    RESEND_COOLDOWN_SECONDS: "0",
    ADMIN_TOKEN: adminToken,
    EVENT_FLUSH_MS: "50",
    WEBHOOK_POLL_MS: "50",
  });
});
afterAll(async () => {
  await Promise.all([redis?.stop(), collector?.close(), receiver?.close()]);
});

const call = (procedure: string, body: unknown) => callJson(server.url, procedure, body);

describe("nothing secret in logs, traces, metrics or the console's feed and counters", () => {
  it("drives every RPC with known codes and recipients and finds none of them in what was emitted", async () => {
    const secrets: string[] = [secret, phone, email, bindingValue, adminToken];
    // The console's live feed watches everything that follows.
    const feed = await openJsonStream(
      server.url,
      "otp.v1.AdminService/WatchActivity",
      {},
      operator,
    );
    await feed.waitFor(() => true);
    // Every event goes to a webhook endpoint and to an open WatchEvents stream.
    const endpoint = await callJson(
      server.url,
      "otp.v1.AdminService/CreateWebhookEndpoint",
      { tenantId: "default", url: receiver.url },
      { authorization: `Bearer ${adminToken}` },
    );
    const webhookSecret = endpoint.body.secret as string;
    expect(webhookSecret).toMatch(/^whsec_/);
    receiver.secrets = [webhookSecret];
    secrets.push(webhookSecret);
    const stream = captureEventStream(server.url, adminToken);
    await new Promise((r) => setTimeout(r, 300));

    // Codes returned directly, in every alphabet.
    for (const [alphabet, codeLength] of [
      ["ALPHABET_NUMERIC", 10],
      ["ALPHABET_ALPHANUMERIC", 10],
      ["ALPHABET_WORDS", 5],
    ] as const) {
      const gen = await call("otp.v1.OtpService/Generate", {
        alphabet,
        codeLength,
        binding: { session: bindingValue },
      });
      const { id, code } = gen.body as { id: string; code: string };
      secrets.push(code);
      const wrong =
        alphabet === "ALPHABET_WORDS"
          ? "abandon-ability-able-about-above"
          : String(randomInt(1e9, 1e10 - 1));
      await call("otp.v1.OtpService/Verify", {
        id,
        code: wrong,
        binding: { session: bindingValue },
      });
      await call("otp.v1.OtpService/Verify", { id, code, binding: { session: "other" } });
      await call("otp.v1.OtpService/Verify", { id, code, binding: { session: bindingValue } });
      await call("otp.v1.OtpService/GetChallenge", { id });
    }

    // Codes delivered through the outbox to a phone and an email address, then resent and canceled.
    for (const target of [
      { channel: "CHANNEL_SMS", recipient: phone },
      { channel: "CHANNEL_EMAIL", recipient: email },
    ]) {
      const gen = await call("otp.v1.OtpService/Generate", {
        codeLength: 10,
        deliveryTargets: [target],
      });
      const id = gen.body.id as string;
      const resent = await call("otp.v1.OtpService/Resend", { id });
      expect(resent.status).toBe(200);
      const outbox = await call("otp.v1.DeliveryService/ListOutbox", { challengeId: id });
      for (const m of outbox.body.messages as { text: string }[]) {
        secrets.push(/(\d{10})/.exec(m.text)?.[1] ?? "missing");
      }
      await call("otp.v1.OtpService/Cancel", { id });
      await call("otp.v1.DeliveryService/ListOutbox", { recipient: target.recipient });
    }
    await call("otp.v1.DeliveryService/ListChannels", {});
    await call("grpc.health.v1.Health/Check", {});
    // Admin changes and security events, so the audit trail has entries to search.
    const keySecrets = await driveAdmin(server.url);
    secrets.push(adminToken, ...keySecrets);
    // Bad input that carries a recipient and a code-like value.
    await call("otp.v1.OtpService/Generate", {
      deliveryTargets: [{ channel: "CHANNEL_SMS", recipient: `${phone}x` }],
    });
    await call("otp.v1.OtpService/Verify", { id: "not-a-uuid", code: secrets[4] });
    // The console: sign-ins right and wrong, a session used and ended.
    secrets.push(adminToken);
    const admin = { authorization: `Bearer ${adminToken}` };
    const tenant = await callJson(
      server.url,
      "otp.v1.AdminService/CreateTenant",
      { name: "t" },
      admin,
    );
    const tenantId = (tenant.body.tenant as { id: string }).id;
    const key = await callJson(
      server.url,
      "otp.v1.AdminService/CreateApiKey",
      { tenantId, kind: "API_KEY_KIND_SECRET", scopes: ["SCOPE_ADMIN"] },
      admin,
    );
    secrets.push(key.body.secret as string);
    for (const credential of [adminToken, key.body.secret as string]) {
      const session = await consoleSignIn(server.url, credential);
      expect(session.status).toBe(200);
      secrets.push(session.sessionId, session.csrfToken);
      const headers = sessionHeaders(server.url, session);
      await callJson(server.url, "otp.v1.AdminService/ListApiKeys", { tenantId }, headers);
      await fetch(`${server.url}/console/session`, { method: "DELETE", headers });
    }
    const wrongCredential = `${adminToken}-wrong`;
    secrets.push(wrongCredential);
    expect((await consoleSignIn(server.url, wrongCredential)).status).toBe(401);

    const buf = await run("node_modules/.bin/buf", [
      "curl",
      "--http2-prior-knowledge",
      "--protocol",
      "grpc",
      "-d",
      `{"id":"${crypto.randomUUID()}","code":"${secrets[4]}"}`,
      `${server.url}/otp.v1.OtpService/Verify`,
    ]);
    expect(buf.stdout + buf.stderr).toContain("not_found");

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    // The last events reach the feed within a batch (200 ms), the counters within a flush (1 s).
    await new Promise((r) => setTimeout(r, 1_200));
    const overview = await callJson(server.url, "otp.v1.AdminService/GetOverview", {}, operator);
    // The console's count agrees with /metrics (one series per alphabet there).
    const generatedTotal = [
      ...metrics.matchAll(/^otp_challenges_generated_total\{[^}]*\} (\d+)$/gm),
    ]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
    expect(overview.body.generated).toBe(String(generatedTotal));
    feed.close();
    const auditApi = await exportAudit(server.url);
    await expect
      .poll(() => receiver.received.some((r) => r.body.type === "challenge.canceled"), {
        timeout: 10_000,
      })
      .toBe(true);
    stream.stop();
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    // The console's counters, and every other activity key, whatever its type.
    const counters = await dumpRedisKeys(redis.url, "*activity*");

    const emitted = {
      logs: server.stdout() + server.stderr(),
      traces: collector.raw.join("\n"),
      metrics,
      feed: feed.raw(),
      console: JSON.stringify(overview.body),
      counters,
      // The trail as ExportAuditEvents gives it, and as it lies in the Redis stream.
      audit: auditApi + (await auditStream(redis.url)),
      // What webhooks carried, what WatchEvents streamed, and the events and webhook keys in Redis.
      webhooks: JSON.stringify(receiver.received),
      events: stream.text(),
      eventsAtRest:
        (await dumpRedisKeys(redis.url, "*event*")) + (await dumpRedisKeys(redis.url, "*webhook*")),
    };
    // The search would be empty if nothing were emitted: make sure each stream has content.
    expect(emitted.logs).toContain('"msg":"rpc"');
    expect(emitted.traces).toContain("otp.v1.OtpService/Verify");
    expect(emitted.metrics).toContain("otp_verifications_total");
    expect(emitted.feed).toContain("ACTIVITY_KIND_GENERATE");
    expect(emitted.feed).toContain("+1******9876");
    expect(emitted.counters).toContain("|sms|US");
    expect(emitted.audit).toContain("key.used_after_revocation");
    expect(emitted.audit).toContain("admin.unauthenticated");
    for (const where of ["webhooks", "events", "eventsAtRest"] as const) {
      expect(emitted[where], where).toContain("challenge.verified");
      expect(emitted[where], where).toContain("delivery.status_changed");
    }
    expect(emitted.webhooks).toContain("+1******9876");
    expect(receiver.badSignatures).toBe(0);
    expect(secrets.filter((s) => s === "missing")).toEqual([]);

    for (const [where, text] of Object.entries(emitted)) {
      for (const value of secrets) {
        expect(text.includes(value), `${where} contains a secret value`).toBe(false);
      }
    }
    // Recipients may appear only masked.
    expect(Object.values(emitted).join("")).not.toContain("secret.person");
  });

  it("finds none of them either when real providers (fakes) send, fail and report back", async () => {
    const fakes = await startProviderFakes();
    const providers = await spawnServer({
      ...providerEnv(fakes),
      ...gatewayAndVoiceEnv(fakes),
      // The Gateway and voice sends go to the same number as the SMS ones.
      RATE_LIMIT_SENDS_PER_RECIPIENT: "off",
      TELEGRAM_UPDATES: "polling",
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: "providers:",
      OTP_HMAC_SECRET: secret,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_BSP_SCHEDULE_DELAY: "100",
      LOG_LEVEL: "trace",
    });
    try {
      const sendCall = (body: unknown) =>
        callJson(providers.url, "otp.v1.DeliveryService/Send", body);
      const chat = "7743219981";
      const code = "73519042";
      const secrets: string[] = [
        secret,
        phone,
        email,
        chat,
        code,
        fakes.telegram.token,
        fakes.twilio.authToken,
        fakes.resend.apiKey,
        fakes.telegramGateway.token,
      ];
      fakes.telegramGateway.reachable.add(phone);
      const otpContent = { otp: { code, ttlSeconds: 60 } };
      for (const [channel, recipient] of [
        ["CHANNEL_TELEGRAM", chat],
        ["CHANNEL_SMS", phone],
        ["CHANNEL_WHATSAPP", phone],
        ["CHANNEL_EMAIL", email],
        ["CHANNEL_TELEGRAM_GATEWAY", phone],
        ["CHANNEL_VOICE", phone],
      ]) {
        expect((await sendCall({ channel, recipient, ...otpContent })).status).toBe(200);
      }
      // Gateway delivery reports, good and forged.
      const gatewaySend = fakes.telegramGateway.sends.at(-1);
      if (gatewaySend !== undefined) {
        const postTo = providers.url;
        await fakes.telegramGateway.postReport(gatewaySend, "read", { postTo });
        await fakes.telegramGateway.postReport(gatewaySend, "expired", {
          postTo,
          signWith: "forged-gateway-token-0123456789",
        });
      }
      // Failures whose provider answers quote the recipient, and a dropped connection.
      fakes.twilio.fail({ kind: "invalid_number" });
      fakes.telegram.fail("sendMessage", { kind: "drop" }, 3);
      await sendCall({ channel: "CHANNEL_SMS", recipient: phone, ...otpContent });
      await sendCall({ channel: "CHANNEL_TELEGRAM", recipient: chat, ...otpContent });
      // A code made by Generate and sent by SMS, and a status report about it, good and forged.
      const gen = await callJson(providers.url, "otp.v1.OtpService/Generate", {
        codeLength: 10,
        deliveryTargets: [{ channel: "CHANNEL_SMS", recipient: phone }],
      });
      expect(gen.status).toBe(200);
      const sms = fakes.twilio.messages.at(-1);
      secrets.push(/(\d{10})/.exec(sms?.body ?? "")?.[1] ?? "missing");
      if (sms !== undefined) {
        await fakes.twilio.postStatusCallback(sms, "delivered", { postTo: providers.url });
        await fakes.twilio.postStatusCallback(sms, "failed", {
          postTo: providers.url,
          signWith: "f".repeat(32),
        });
      }
      // A Telegram user shares their number with the bot.
      fakes.telegram.pushUpdate({
        message: {
          message_id: 1,
          date: Math.floor(Date.now() / 1000),
          chat: { id: Number(chat), type: "private", first_name: "P" },
          from: { id: Number(chat), is_bot: false, first_name: "P" },
          contact: { phone_number: phone, first_name: "P", user_id: Number(chat) },
        },
      } as Parameters<typeof fakes.telegram.pushUpdate>[0]);
      await fakes.telegram.waitForCalls("sendMessage", 5);

      const metrics = await (await fetch(`${providers.url}/metrics`)).text();
      providers.child.kill("SIGTERM");
      expect(await providers.exited).toBe(0);
      await waitForSpan(collector, "delivery.send");
      const emitted = {
        logs: providers.stdout() + providers.stderr(),
        traces: collector.raw.join("\n"),
        metrics,
      };
      expect(emitted.logs).toContain("telegram chat linked");
      expect(emitted.traces).toContain("delivery.send");
      expect(emitted.metrics).toMatch(/otp_deliveries_total\{[^}]*outcome="delivered"/);
      expect(secrets.filter((s) => s === "missing")).toEqual([]);
      for (const [where, text] of Object.entries(emitted)) {
        for (const value of secrets) {
          expect(text.includes(value), `${where} contains a secret value`).toBe(false);
        }
      }
      expect(emitted.logs + emitted.traces).not.toContain("secret.person");
    } finally {
      if (providers.child.exitCode === null) providers.child.kill("SIGKILL");
      await fakes.close();
    }
  });
});

async function waitForSpan(collector: OtlpCollector, name: string): Promise<void> {
  for (let i = 0; i < 100 && !collector.raw.join("").includes(name); i++) {
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * Creates a tenant and keys, uses one, revokes it, uses it again, and calls
 * AdminService with a wrong token: every kind of admin change and security
 * event the audit trail records. Returns the key secrets and the wrong token.
 */
async function driveAdmin(url: string): Promise<string[]> {
  const operator = { authorization: `Bearer ${adminToken}` };
  const admin = (method: string, body: unknown, headers = operator) =>
    callJson(url, `otp.v1.AdminService/${method}`, body, headers);
  const tenant = await admin("CreateTenant", { name: "No Secrets" });
  const tenantId = (tenant.body.tenant as { id: string }).id;
  await admin("RenameTenant", { tenantId, name: "Still No Secrets" });
  const made: string[] = [];
  for (const expiresAt of [undefined, new Date(Date.now() + 86_400_000).toISOString()]) {
    const key = await admin("CreateApiKey", {
      tenantId,
      kind: "API_KEY_KIND_SECRET",
      scopes: ["SCOPE_GENERATE"],
      expiresAt,
    });
    made.push(key.body.secret as string);
  }
  const [revoked = "", deleted = ""] = made;
  const use = (secret: string) =>
    callJson(url, "otp.v1.OtpService/Generate", {}, { authorization: `Bearer ${secret}` });
  expect((await use(revoked)).status).toBe(200);
  await admin("RevokeApiKey", { keyId: revoked.slice(0, 15) });
  expect((await use(revoked)).body.code).toBe("unauthenticated");
  await admin("SuspendTenant", { tenantId, reason: "checking" });
  await use(deleted);
  await admin("ResumeTenant", { tenantId });
  await admin("DeleteApiKey", { keyId: deleted.slice(0, 15) });
  await use(deleted);
  const wrongToken = `wrong-admin-token-${"W".repeat(24)}`;
  await admin("ListTenants", {}, { authorization: `Bearer ${wrongToken}` });
  await admin("DeleteTenant", { tenantId });
  return [...made, wrongToken];
}

/** The whole trail through ExportAuditEvents, hand-framed Connect streaming, as text. */
async function exportAudit(url: string): Promise<string> {
  const body = Buffer.from("{}");
  const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, body.length]), body]);
  const res = await fetch(`${url}/otp.v1.AdminService/ExportAuditEvents`, {
    method: "POST",
    headers: {
      "content-type": "application/connect+json",
      authorization: `Bearer ${adminToken}`,
    },
    body: frame,
  });
  return Buffer.from(await res.arrayBuffer()).toString("utf8");
}

/** Every entry of every audit stream in Redis, raw. */
async function auditStream(url: string): Promise<string> {
  const client = new Redis(url);
  try {
    const keys = await client.keys("*audit*");
    const raw = await Promise.all(keys.map((k) => client.xrange(k, "-", "+").catch(() => [])));
    expect(raw.flat().length).toBeGreaterThan(0);
    return JSON.stringify(raw);
  } finally {
    client.disconnect();
  }
}
