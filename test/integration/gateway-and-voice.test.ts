import {
  Channel,
  createDeliveryClient,
  createOtpClient,
  DeliveryAttemptStatus,
  type DeliveryClient,
  DeliveryStatus,
  type OtpClient,
  VerifyResult,
} from "@otp/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  gatewayAndVoiceEnv,
  type ProviderFakes,
  providerEnv,
  startProviderFakes,
  twilioVoiceSender,
} from "../support/provider-fakes.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

const phone = "+14155552671";
let fakes: ProviderFakes;
let server: ServerProcess;
let otp: OtpClient;
let delivery: DeliveryClient;

beforeAll(async () => {
  fakes = await startProviderFakes();
  server = await spawnServer({
    ...providerEnv(fakes),
    ...gatewayAndVoiceEnv(fakes),
    RATE_LIMIT_SENDS_PER_RECIPIENT: "off",
    RATE_LIMIT_GENERATE_PER_IP: "off",
    RESEND_COOLDOWN_SECONDS: "0",
  });
  const options = { baseUrl: server.url, protocol: "connect" as const, retry: { maxAttempts: 1 } };
  otp = createOtpClient(options);
  delivery = createDeliveryClient(options);
}, 30_000);
afterAll(async () => {
  if (server !== undefined && server.child.exitCode === null) {
    server.child.kill("SIGTERM");
    await server.exited;
  }
  await fakes?.close();
});
beforeEach(() => fakes.reset());

const gatewayThenSms = [
  { channel: Channel.TELEGRAM_GATEWAY, recipient: phone },
  { channel: Channel.SMS, recipient: phone },
];

async function statusOf(id: string): Promise<DeliveryStatus | undefined> {
  return (await delivery.getDelivery({ id })).delivery?.status;
}

describe("Telegram Gateway as a Generate target", () => {
  it("sends our code to a number the Gateway can reach, and nothing by SMS", async () => {
    fakes.telegramGateway.reachable.add(phone);
    const { id, deliveryAttempts } = await otp.generate({ deliveryTargets: gatewayThenSms });
    expect(deliveryAttempts.map((a) => [a.channel, a.status])).toEqual([
      [Channel.TELEGRAM_GATEWAY, DeliveryAttemptStatus.ACCEPTED],
      [Channel.SMS, DeliveryAttemptStatus.SKIPPED],
    ]);
    const [sent] = fakes.telegramGateway.sends;
    expect(sent).toMatchObject({ phoneNumber: phone, checked: true, ttl: 60 });
    expect(fakes.twilio.messages).toEqual([]);
    // The code the Gateway carried is the challenge's own.
    expect((await otp.verify({ id, code: sent?.code ?? "" })).result).toBe(VerifyResult.VERIFIED);
  });

  it("revokes the message once the code is verified, and records the delivery deleted", async () => {
    fakes.telegramGateway.reachable.add(phone);
    const { id, deliveryId } = await otp.generate({ deliveryTargets: gatewayThenSms });
    const [sent] = fakes.telegramGateway.sends;
    expect((await otp.verify({ id, code: sent?.code ?? "" })).result).toBe(VerifyResult.VERIFIED);
    await expect.poll(() => fakes.telegramGateway.revoked.length).toBe(1);
    await expect.poll(() => statusOf(deliveryId)).toBe(DeliveryStatus.DELETED);
  });

  it("revokes the message when its code expires unused, and not before", async () => {
    fakes.telegramGateway.reachable.add(phone);
    const { deliveryId } = await otp.generate({ ttlSeconds: 2, deliveryTargets: gatewayThenSms });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(fakes.telegramGateway.revoked).toHaveLength(0);
    await expect.poll(() => fakes.telegramGateway.revoked.length, { timeout: 4_000 }).toBe(1);
    await expect.poll(() => statusOf(deliveryId)).toBe(DeliveryStatus.DELETED);
  });

  it("revokes every message of a canceled challenge, the resent one included", async () => {
    fakes.telegramGateway.reachable.add(phone);
    const { id } = await otp.generate({ deliveryTargets: gatewayThenSms });
    await otp.resend({ id });
    expect(fakes.telegramGateway.sends).toHaveLength(2);
    // One code for both messages while it is valid.
    expect(fakes.telegramGateway.sends[1]?.code).toBe(fakes.telegramGateway.sends[0]?.code);
    await otp.cancel({ id });
    await expect.poll(() => fakes.telegramGateway.revoked.length).toBe(2);
  });

  it("falls through to SMS for a number without a reachable Telegram account, sending nothing to the Gateway", async () => {
    const { deliveryAttempts } = await otp.generate({ deliveryTargets: gatewayThenSms });
    expect(deliveryAttempts.map((a) => [a.channel, a.status, a.errorReason])).toEqual([
      [Channel.TELEGRAM_GATEWAY, DeliveryAttemptStatus.FAILED, "RECIPIENT_UNREACHABLE"],
      [Channel.SMS, DeliveryAttemptStatus.ACCEPTED, ""],
    ]);
    expect(fakes.telegramGateway.checks).toEqual([phone]);
    expect(fakes.telegramGateway.sends).toEqual([]);
    expect(fakes.twilio.messages).toHaveLength(1);
  });
});

describe("Telegram Gateway delivery reports", () => {
  async function sendViaGateway(): Promise<string> {
    fakes.telegramGateway.reachable.add(phone);
    const { delivery: d } = await delivery.send({
      channel: Channel.TELEGRAM_GATEWAY,
      recipient: phone,
      content: { case: "otp", value: { code: "493027", ttlSeconds: 120 } },
    });
    if (d === undefined) throw new Error("nothing sent");
    expect(d.status).toBe(DeliveryStatus.SENT);
    return d.id;
  }
  const report = (status: string, options = {}) => {
    const sent = fakes.telegramGateway.sends.at(-1);
    if (sent === undefined) throw new Error("nothing sent");
    return fakes.telegramGateway.postReport(sent, status, { postTo: server.url, ...options });
  };

  it("records a signed delivered report, seen by GetDelivery and WatchDelivery", async () => {
    const id = await sendViaGateway();
    expect(fakes.telegramGateway.sends.at(-1)?.payload).toBe(id);
    const seen: DeliveryStatus[] = [];
    const watching = (async () => {
      for await (const { event } of delivery.watchDelivery({ id })) {
        seen.push(event?.status ?? DeliveryStatus.UNSPECIFIED);
        if (seen.length === 2) expect(await report("delivered")).toBe(204);
      }
    })();
    await watching;
    expect(seen).toEqual([DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELIVERED]);
    expect(await statusOf(id)).toBe(DeliveryStatus.DELIVERED);
    // A revocation reported later is recorded as deleted.
    expect(await report("revoked")).toBe(204);
    expect(await statusOf(id)).toBe(DeliveryStatus.DELETED);
  });

  it.each([
    ["signed with another token", { signWith: "another-gateway-token-0123456789" }],
    ["changed after signing", { tamper: true }],
    ["stale", { timestamp: Math.floor(Date.now() / 1000) - 3600 }],
  ])("refuses a report %s with 401 and records nothing", async (_name, options) => {
    const id = await sendViaGateway();
    const before = (await delivery.getDelivery({ id })).delivery?.history.length;
    expect(await report("sent", options)).toBe(401);
    expect(await report("expired", options)).toBe(401);
    const after = (await delivery.getDelivery({ id })).delivery;
    expect([after?.status, after?.history.length]).toEqual([DeliveryStatus.SENT, before]);
  });

  it("records an expired report as failed", async () => {
    const id = await sendViaGateway();
    expect(await report("expired")).toBe(204);
    const d = (await delivery.getDelivery({ id })).delivery;
    expect([d?.status, d?.history.at(-1)?.reason]).toEqual([
      DeliveryStatus.FAILED,
      "PROVIDER_UNDELIVERED",
    ]);
  });

  it("refuses an oversized report before reading it", async () => {
    const res = await fetch(`${server.url}/telegram-gateway/reports`, {
      method: "POST",
      headers: { "x-request-timestamp": "1", "x-request-signature": "0".repeat(64) },
      body: "x".repeat(64 * 1024),
    });
    expect(res.status).toBe(413);
  });
});

describe("voice", () => {
  it("makes one call whose TwiML reads each digit of the code twice, then records delivered", async () => {
    const { id, deliveryId } = await otp.generate({
      deliveryTargets: [{ channel: Channel.VOICE, recipient: "+1 415 555 2671" }],
      locale: "es",
    });
    expect(fakes.twilio.calls).toHaveLength(1);
    const [call] = fakes.twilio.calls;
    if (call === undefined) throw new Error("no call");
    expect([call.to, call.from]).toEqual([phone, twilioVoiceSender]);
    const spoken = [...call.twiml.matchAll(/<Say language="es-ES">([\d, ]+)\.<\/Say>/g)].map(
      (m) => m[1] ?? "",
    );
    expect(spoken).toHaveLength(2);
    expect(spoken[0]).toBe(spoken[1]);
    const code = (spoken[0] ?? "").split(", ").join("");
    expect(code).toMatch(/^\d{6}$/);
    expect(call.statusCallbackEvents).toEqual(["initiated", "ringing", "answered", "completed"]);

    const post = (status: string, signWith?: string) =>
      fakes.twilio.postCallStatus(call, status, { postTo: server.url, signWith });
    expect(await post("completed", "0".repeat(32))).toBe(403);
    expect(await statusOf(deliveryId)).toBe(DeliveryStatus.QUEUED);
    expect(await post("ringing")).toBe(204);
    expect(await statusOf(deliveryId)).toBe(DeliveryStatus.SENT);
    expect(await post("completed")).toBe(204);
    expect(await statusOf(deliveryId)).toBe(DeliveryStatus.DELIVERED);
    expect((await otp.verify({ id, code })).result).toBe(VerifyResult.VERIFIED);
  });

  it("records a call nobody answered as failed with its reason", async () => {
    const { deliveryId } = await otp.generate({
      deliveryTargets: [{ channel: Channel.VOICE, recipient: phone }],
    });
    const [call] = fakes.twilio.calls;
    if (call === undefined) throw new Error("no call");
    expect(call.twiml).toContain('language="en-US"');
    expect(await fakes.twilio.postCallStatus(call, "no-answer", { postTo: server.url })).toBe(204);
    const d = (await delivery.getDelivery({ id: deliveryId })).delivery;
    expect([d?.status, d?.history.at(-1)?.reason]).toEqual([
      DeliveryStatus.FAILED,
      "RECIPIENT_NO_ANSWER",
    ]);
  });

  it("refuses a voice recipient outside the SMS countries", async () => {
    const err = await otp
      .generate({ deliveryTargets: [{ channel: Channel.VOICE, recipient: "+33612345678" }] })
      .then(
        () => undefined,
        (e: unknown) => e as { reason?: string },
      );
    expect(err?.reason).toBe("COUNTRY_NOT_ALLOWED");
    expect(fakes.twilio.calls).toEqual([]);
  });
});

describe("ListChannels", () => {
  it("lists the Gateway and voice as configured and healthy", async () => {
    const { channels } = await delivery.listChannels({});
    for (const channel of [Channel.TELEGRAM_GATEWAY, Channel.VOICE]) {
      expect(channels.find((c) => c.channel === channel)).toMatchObject({
        configured: true,
        healthy: true,
        servedByOutbox: false,
      });
    }
  });
});

it("never logs the Gateway token or a code", () => {
  const logs = server.stdout() + server.stderr();
  expect(logs).not.toContain(fakes.telegramGateway.token);
  expect(logs).not.toContain("493027");
  expect(logs).not.toContain(phone);
});
