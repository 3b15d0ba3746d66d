import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  Channel,
  Code,
  createDeliveryClient,
  createOtpClient,
  type DeliveryClient,
  DeliveryStatus,
  type OtpClient,
  OtpError,
} from "@otp/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { createApiKey } from "../support/api-keys.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

let fakes: ProviderFakes;
let server: RunningServer;
let delivery: DeliveryClient;
let otp: OtpClient;

beforeAll(async () => {
  fakes = await startProviderFakes();
  server = await startTestServer(providerEnv(fakes));
  // The real SDK, over gRPC; retries off so every provider call is the test's.
  const options = { baseUrl: server.url, protocol: "grpc" as const, retry: { maxAttempts: 1 } };
  delivery = createDeliveryClient(options);
  otp = createOtpClient(options);
});
afterAll(async () => {
  await server?.close();
  await fakes?.close();
});
beforeEach(() => fakes.reset());

async function failure(p: Promise<unknown>): Promise<OtpError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof OtpError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

const statuses = (history: { status: DeliveryStatus }[]) => history.map((e) => e.status);

describe("Send over each provider, through the real server and SDKs", () => {
  it("sends free text to a Telegram chat and records it as sent", async () => {
    const { delivery: d } = await delivery.send({
      channel: Channel.TELEGRAM,
      recipient: "7001",
      content: { case: "text", value: "Hello from the test" },
    });
    expect(fakes.telegram.callsTo("sendMessage").map((c) => c.body)).toEqual([
      expect.objectContaining({
        chat_id: "7001",
        text: "Hello from the test",
        protect_content: true,
      }),
    ]);
    expect(d).toMatchObject({ channel: Channel.TELEGRAM, status: DeliveryStatus.SENT });
    expect(statuses(d?.history ?? [])).toEqual([DeliveryStatus.QUEUED, DeliveryStatus.SENT]);
    expect(d?.history[1]?.attempt).toBe(1);
  });

  it("sends a code by SMS from the template in the asked language, normalising the number", async () => {
    const { delivery: d } = await delivery.send({
      channel: Channel.SMS,
      recipient: "+34 612 34 56 78",
      content: { case: "otp", value: { code: "493027", ttlSeconds: 300 } },
      locale: "es",
    });
    const [sms] = fakes.twilio.messages;
    expect(sms).toMatchObject({ to: "+34612345678", from: "+14155550100", validityPeriod: "300" });
    expect(sms?.body).toBe(
      "Tu código de verificación es 493027. Caduca en 5 minutos. No lo compartas con nadie.",
    );
    expect(sms?.statusCallback).toBe(`https://otp.example.com/twilio/status?delivery=${d?.id}`);
    // Twilio queues the message; the history says so, and the recipient is masked.
    expect(d).toMatchObject({ status: DeliveryStatus.QUEUED, recipientMasked: "+3******5678" });
  });

  it("sends a code on WhatsApp", async () => {
    await delivery.send({
      channel: Channel.WHATSAPP,
      recipient: "+14155552671",
      content: { case: "otp", value: { code: "493027", ttlSeconds: 60 } },
    });
    expect(fakes.twilio.messages[0]).toMatchObject({
      to: "whatsapp:+14155552671",
      from: "whatsapp:+14155550100",
    });
    expect(fakes.twilio.messages[0]?.body).toContain("*493027*");
  });

  it("sends a code by email with subject, text and HTML from the configured sender", async () => {
    const { delivery: d } = await delivery.send({
      channel: Channel.EMAIL,
      recipient: "ada@example.com",
      content: { case: "otp", value: { code: "493027", ttlSeconds: 600 } },
      locale: "de",
    });
    const [email] = fakes.resend.emails;
    expect(email).toMatchObject({
      from: "Acme <login@mail.example.com>",
      to: ["ada@example.com"],
      subject: "493027 ist dein Bestätigungscode",
    });
    expect(email?.html).toContain("493027");
    expect(email?.text).toContain("10 Minuten");
    // The delivery id is Resend's idempotency key.
    expect(email?.idempotencyKey).toBe(d?.id);
    expect(d?.status).toBe(DeliveryStatus.SENT);
  });

  it("sends a code through Generate in the request's language", async () => {
    const { deliveryId, deliveryAttempts } = await otp.generate({
      ttlSeconds: 120,
      locale: "de",
      deliveryTargets: [{ channel: Channel.SMS, recipient: "+14155552671" }],
    });
    expect(fakes.twilio.messages[0]?.body).toMatch(/^Dein Bestätigungscode lautet \d{6}\./);
    expect(deliveryAttempts[0]?.viaOutbox).toBe(false);
    const { delivery: d } = await delivery.getDelivery({ id: deliveryId });
    expect(d).toMatchObject({ channel: Channel.SMS, status: DeliveryStatus.QUEUED });
  });

  it("lists every provider channel as configured, not served by the outbox", async () => {
    const { channels } = await delivery.listChannels({});
    const byChannel = new Map(channels.map((c) => [c.channel, c]));
    for (const channel of [Channel.TELEGRAM, Channel.SMS, Channel.WHATSAPP, Channel.EMAIL]) {
      expect(byChannel.get(channel)).toMatchObject({
        configured: true,
        healthy: true,
        servedByOutbox: false,
      });
    }
  });
});

describe("Send failures, each class", () => {
  it.each([
    ["Telegram: chat not found", "telegram", "RECIPIENT_NOT_FOUND"],
    ["Telegram: bot blocked by the user", "telegram", "RECIPIENT_UNREACHABLE"],
    ["Twilio: invalid number (21211)", "sms", "RECIPIENT_INVALID"],
    ["Twilio: unsubscribed recipient (21610)", "sms", "RECIPIENT_OPTED_OUT"],
    ["Resend: validation error", "email", "PROVIDER_REJECTED"],
    ["Resend: daily quota", "email", "PROVIDER_QUOTA_EXCEEDED"],
  ] as const)("fails at once on a permanent error (%s)", async (name, channel, reason) => {
    const before = callsTo(channel);
    failOnce(name);
    const err = await failure(send(channel));
    expect(err.code).toBe(Code.Unavailable);
    expect(err.reason).toBe("DELIVERY_FAILED");
    expect(err.info.failure_reason).toBe(reason);
    expect(callsTo(channel) - before).toBe(1);
    // The delivery the error names records the failure and its reason.
    const { delivery: d } = await delivery.getDelivery({ id: err.info.delivery_id ?? "" });
    expect(d?.status).toBe(DeliveryStatus.FAILED);
    expect(d?.history.at(-1)).toMatchObject({ reason, attempt: 1 });
  });

  it.each([
    ["telegram", "PROVIDER_UNAVAILABLE"],
    ["sms", "PROVIDER_RATE_LIMITED"],
    ["email", "PROVIDER_UNAVAILABLE"],
  ] as const)(
    "gives up on %s after the configured attempts of a retryable error",
    async (channel, reason) => {
      if (channel === "telegram") fakes.telegram.fail("sendMessage", { kind: "server_error" }, 3);
      if (channel === "sms") fakes.twilio.fail({ kind: "rate_limit" }, 3);
      if (channel === "email") fakes.resend.fail({ kind: "server_error" }, 3);
      const err = await failure(send(channel));
      expect(err.info.failure_reason).toBe(reason);
      expect(callsTo(channel)).toBe(3);
      const { delivery: d } = await delivery.getDelivery({ id: err.info.delivery_id ?? "" });
      expect(d?.history.at(-1)).toMatchObject({
        status: DeliveryStatus.FAILED,
        reason,
        attempt: 3,
      });
    },
  );

  it("times out a provider that does not answer, and says so", async () => {
    const impatient = await startTestServer({
      ...providerEnv(fakes),
      PROVIDER_TIMEOUT_MS: "150",
      DELIVERY_RETRY_BUDGET_MS: "1000",
    });
    try {
      fakes.twilio.fail({ kind: "slow", ms: 5_000 }, 3);
      const started = performance.now();
      const err = await failure(
        createDeliveryClient({ baseUrl: impatient.url, protocol: "connect" }).send({
          channel: Channel.SMS,
          recipient: "+14155552671",
          content: { case: "text", value: "late" },
        }),
      );
      expect(err.info.failure_reason).toBe("PROVIDER_TIMEOUT");
      expect(fakes.twilio.requests).toBe(3);
      // Three attempts of at most PROVIDER_TIMEOUT_MS each, within the 1-second budget.
      expect(performance.now() - started).toBeLessThan(2_000);
    } finally {
      await impatient.close();
    }
  });

  it.each([
    ["a country outside SMS_ALLOWED_COUNTRIES", "+4915112345678", "COUNTRY_NOT_ALLOWED"],
    ["a premium-rate number", "+19005550123", "NUMBER_TYPE_NOT_ALLOWED"],
    ["a number that cannot exist", "+1415555", "RECIPIENT_INVALID"],
  ])("refuses %s before any provider call", async (_name, recipient, reason) => {
    const err = await failure(
      delivery.send({ channel: Channel.SMS, recipient, content: { case: "text", value: "hi" } }),
    );
    expect([err.code, err.reason, err.info.field]).toEqual([
      Code.InvalidArgument,
      reason,
      "recipient",
    ]);
    expect(fakes.twilio.requests).toBe(0);
  });

  it("refuses the same for Generate's delivery targets", async () => {
    const err = await failure(
      otp.generate({ deliveryTargets: [{ channel: Channel.SMS, recipient: "+4915112345678" }] }),
    );
    expect([err.reason, err.info.field]).toEqual([
      "COUNTRY_NOT_ALLOWED",
      "delivery_targets[0].recipient",
    ]);
  });

  it("refuses a Send without content, and a self-destruct outside Telegram", async () => {
    const noContent = await failure(delivery.send({ channel: Channel.EMAIL, recipient: "a@b.co" }));
    expect(noContent.reason).toBe("CONTENT_INVALID");
    const sd = await failure(
      delivery.send({
        channel: Channel.SMS,
        recipient: "+14155552671",
        content: { case: "text", value: "hi" },
        selfDestructSeconds: 30,
      }),
    );
    expect(sd.reason).toBe("SELF_DESTRUCT_INVALID");
  });

  it("says which delivery is unknown", async () => {
    const err = await failure(delivery.getDelivery({ id: crypto.randomUUID() }));
    expect([err.code, err.reason]).toEqual([Code.NotFound, "DELIVERY_NOT_FOUND"]);
  });
});

describe("retries", () => {
  it.each([
    ["a 500", { kind: "server_error" }],
    ["a 429 with retry_after 0", { kind: "rate_limit", retryAfter: 0 }],
    ["a dropped connection", { kind: "drop" }],
    ["a 502 from a proxy", { kind: "bad_gateway" }],
  ] as const)("retries Telegram after %s and records the attempt that succeeded", async (_n, f) => {
    fakes.telegram.fail("sendMessage", f, 2);
    const { delivery: d } = await delivery.send({
      channel: Channel.TELEGRAM,
      recipient: "7002",
      content: { case: "text", value: "retried" },
    });
    expect(fakes.telegram.callsTo("sendMessage")).toHaveLength(3);
    expect(d?.history.at(-1)).toMatchObject({ status: DeliveryStatus.SENT, attempt: 3 });
  });

  it("retries Twilio after a 503 from a load balancer, sending one SMS", async () => {
    fakes.twilio.fail({ kind: "unavailable_text" }, 1);
    await send("sms");
    expect(fakes.twilio.requests).toBe(2);
    expect(fakes.twilio.messages).toHaveLength(1);
  });
});

describe("isolation and configuration", () => {
  it("does not slow other channels while one provider hangs", async () => {
    fakes.telegram.fail("sendMessage", { kind: "slow", ms: 2_000 }, 1);
    const hanging = delivery
      .send({ channel: Channel.TELEGRAM, recipient: "7010", content: { case: "text", value: "x" } })
      .catch(() => undefined);
    await fakes.telegram.waitForCalls("sendMessage", 1);
    const started = performance.now();
    await send("sms");
    await send("email");
    // Blocked behind the hanging provider, these would wait most of its 2 s.
    expect(performance.now() - started).toBeLessThan(1_500);
    await hanging;
  });

  it("answers within the caller's deadline, with the failure recorded", async () => {
    fakes.twilio.fail({ kind: "slow", ms: 5_000 }, 5);
    const started = performance.now();
    const err = await failure(send("sms", { timeoutMs: 800 }));
    // A DELIVERY_FAILED answer (not the client's deadline_exceeded) is the proof it answered in time.
    expect([err.reason, err.info.failure_reason]).toEqual(["DELIVERY_FAILED", "PROVIDER_TIMEOUT"]);
    expect(performance.now() - started).toBeLessThan(5_000);
    const { delivery: d } = await delivery.getDelivery({ id: err.info.delivery_id ?? "" });
    expect(d?.status).toBe(DeliveryStatus.FAILED);
  });

  it("renders templates overridden by TEMPLATES_FILE", async () => {
    const dir = mkdtempSync(join(tmpdir(), "otp-templates-"));
    const file = join(dir, "templates.json");
    writeFileSync(
      file,
      JSON.stringify({
        en: {
          sms: { text: "{{code}} is your Acme code. It expires in {{lifetime}}. Don't share it." },
        },
        fr: { sms: { text: "{{code}} est votre code Acme. Ne le partagez pas." } },
      }),
    );
    const custom = await startTestServer({ ...providerEnv(fakes), TEMPLATES_FILE: file });
    try {
      const client = createDeliveryClient({ baseUrl: custom.url, protocol: "connect" });
      for (const locale of ["", "fr", "fr-CA", "es"]) {
        await client.send({
          channel: Channel.SMS,
          recipient: "+14155552671",
          content: { case: "otp", value: { code: "493027", ttlSeconds: 120 } },
          locale,
        });
      }
      expect(fakes.twilio.messages.map((m) => m.body)).toEqual([
        "493027 is your Acme code. It expires in 2 minutes. Don't share it.",
        "493027 est votre code Acme. Ne le partagez pas.",
        "493027 est votre code Acme. Ne le partagez pas.",
        "Tu código de verificación es 493027. Caduca en 2 minutos. No lo compartas con nadie.",
      ]);
    } finally {
      await custom.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("offers only configured providers in production, and no outbox", async () => {
    const env = providerEnv(fakes);
    const prod = await startTestServer({
      ...productionEnv(),
      RESEND_API_KEY: env.RESEND_API_KEY ?? "",
      RESEND_BASE_URL: env.RESEND_BASE_URL ?? "",
      EMAIL_FROM: env.EMAIL_FROM ?? "",
    });
    try {
      const options = {
        baseUrl: prod.url,
        protocol: "connect" as const,
        retry: { maxAttempts: 1 },
        apiKey: await createApiKey(prod.url, testAdminToken, {
          scopes: ["SCOPE_GENERATE", "SCOPE_SEND"],
        }),
      };
      const { channels } = await createDeliveryClient(options).listChannels({});
      expect(
        channels.map((c) => [Channel[c.channel], c.configured, c.servedByOutbox]).sort(),
      ).toEqual([
        ["EMAIL", true, false],
        ["OUTBOX", false, false],
        ["SMS", false, false],
        ["TELEGRAM", false, false],
        ["TELEGRAM_GATEWAY", false, false],
        ["VOICE", false, false],
        ["WHATSAPP", false, false],
      ]);
      const err = await failure(
        createOtpClient(options).generate({
          deliveryTargets: [{ channel: Channel.SMS, recipient: "+14155552671" }],
        }),
      );
      expect(err.reason).toBe("CHANNEL_NOT_CONFIGURED");
      await createDeliveryClient(options).send({
        channel: Channel.EMAIL,
        recipient: "ada@example.com",
        content: { case: "text", value: "production" },
      });
      expect(fakes.resend.emails).toHaveLength(1);
    } finally {
      await prod.close();
    }
  });
});

describe("idempotency", () => {
  it("never sends twice for one key, even when the retries race", async () => {
    const request = {
      channel: Channel.SMS,
      recipient: "+14155552671",
      content: { case: "otp" as const, value: { code: "482913", ttlSeconds: 60 } },
      idempotencyKey: `order-${crypto.randomUUID()}`,
    };
    const results = await Promise.all([1, 2, 3].map(() => delivery.send(request)));
    const again = await delivery.send(request);
    expect(fakes.twilio.messages).toHaveLength(1);
    const ids = new Set([...results, again].map((r) => r.delivery?.id));
    expect(ids.size).toBe(1);
    expect(again.delivery?.status).toBe(DeliveryStatus.QUEUED);
  });

  it("refuses the key with another request", async () => {
    const idempotencyKey = `order-${crypto.randomUUID()}`;
    await delivery.send({
      channel: Channel.EMAIL,
      recipient: "ada@example.com",
      content: { case: "text", value: "one" },
      idempotencyKey,
    });
    const err = await failure(
      delivery.send({
        channel: Channel.EMAIL,
        recipient: "ada@example.com",
        content: { case: "text", value: "two" },
        idempotencyKey,
      }),
    );
    expect([err.code, err.reason]).toEqual([Code.AlreadyExists, "IDEMPOTENCY_KEY_CONFLICT"]);
    expect(fakes.resend.emails).toHaveLength(1);
  });

  it("answers a replay of a failed send with the same failure, without calling the provider again", async () => {
    fakes.telegram.fail("sendMessage", { kind: "chat_not_found" });
    const request = {
      channel: Channel.TELEGRAM,
      recipient: "7003",
      content: { case: "text" as const, value: "x" },
      idempotencyKey: `k-${crypto.randomUUID()}`,
    };
    const first = await failure(delivery.send(request));
    const second = await failure(delivery.send(request));
    expect(second.info).toEqual(first.info);
    expect(fakes.telegram.callsTo("sendMessage")).toHaveLength(1);
  });

  it("keeps Send and Generate keys apart, and Generate with a key sends once", async () => {
    const idempotencyKey = `k-${crypto.randomUUID()}`;
    const target = { channel: Channel.SMS, recipient: "+14155552671" };
    const a = await otp.generate({ deliveryTargets: [target], idempotencyKey });
    const b = await otp.generate({ deliveryTargets: [target], idempotencyKey });
    expect(b.id).toBe(a.id);
    expect(b.deliveryId).toBe(a.deliveryId);
    await delivery.send({ ...target, content: { case: "text", value: "x" }, idempotencyKey });
    expect(fakes.twilio.messages).toHaveLength(2);
  });
});

type ChannelName = "telegram" | "sms" | "email";

function send(channel: ChannelName, callOptions: { timeoutMs?: number } = {}) {
  const to = {
    telegram: { channel: Channel.TELEGRAM, recipient: "7000" },
    sms: { channel: Channel.SMS, recipient: "+14155552671" },
    email: { channel: Channel.EMAIL, recipient: "ada@example.com" },
  }[channel];
  return delivery.send(
    { ...to, content: { case: "otp", value: { code: "493027", ttlSeconds: 60 } } },
    callOptions,
  );
}

function callsTo(channel: ChannelName | "whatsapp"): number {
  if (channel === "telegram") return fakes.telegram.callsTo("sendMessage").length;
  if (channel === "email") return fakes.resend.requests;
  return fakes.twilio.requests;
}

function failOnce(name: string): void {
  if (name.includes("chat not found"))
    fakes.telegram.fail("sendMessage", { kind: "chat_not_found" });
  else if (name.includes("blocked")) fakes.telegram.fail("sendMessage", { kind: "blocked" });
  else if (name.includes("21211")) fakes.twilio.fail({ kind: "invalid_number" });
  else if (name.includes("21610")) fakes.twilio.fail({ kind: "unsubscribed" });
  else if (name.includes("validation")) fakes.resend.fail({ kind: "validation_error" });
  else if (name.includes("quota")) fakes.resend.fail({ kind: "daily_quota" });
}
