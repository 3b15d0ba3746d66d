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
import type { RunningServer } from "../../src/app.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { startTestServer } from "../support/test-server.js";

let fakes: ProviderFakes;
let server: RunningServer;
let delivery: DeliveryClient;
let otp: OtpClient;

beforeAll(async () => {
  fakes = await startProviderFakes();
  server = await startTestServer(providerEnv(fakes));
  const options = { baseUrl: server.url, protocol: "connect" as const, retry: { maxAttempts: 1 } };
  delivery = createDeliveryClient(options);
  otp = createOtpClient(options);
});
afterAll(async () => {
  await server?.close();
  await fakes?.close();
});
beforeEach(() => fakes.reset());

const telegramThenSms = [
  { channel: Channel.TELEGRAM, recipient: "8101" },
  { channel: Channel.SMS, recipient: "+14155552671" },
];

describe("fallback: Telegram failing, SMS accepted", () => {
  it("falls back to SMS when Telegram refuses the chat, recording both attempts", async () => {
    fakes.telegram.fail("sendMessage", { kind: "chat_not_found" });
    const { id, deliveryId, deliveryAttempts } = await otp.generate({
      deliveryTargets: telegramThenSms,
    });
    expect(deliveryAttempts).toMatchObject([
      {
        channel: Channel.TELEGRAM,
        status: DeliveryAttemptStatus.FAILED,
        errorReason: "RECIPIENT_NOT_FOUND",
        recipientMasked: "8**1",
      },
      { channel: Channel.SMS, status: DeliveryAttemptStatus.ACCEPTED, deliveryId },
    ]);
    // The failed attempt has its own delivery, with the reason in its history.
    const failed = await delivery.getDelivery({ id: deliveryAttempts[0]?.deliveryId ?? "" });
    expect(failed.delivery?.status).toBe(DeliveryStatus.FAILED);
    expect(failed.delivery?.challengeId).toBe(id);
    // The code the SMS carried verifies.
    const code = /(\d{6})/.exec(fakes.twilio.messages[0]?.body ?? "")?.[1] ?? "";
    expect((await otp.verify({ id, code })).result).toBe(VerifyResult.VERIFIED);
    // GetChallenge shows the same attempts.
    const { challenge } = await otp.getChallenge({ id });
    expect(challenge?.deliveryAttempts.map((a) => a.status)).toEqual([
      DeliveryAttemptStatus.FAILED,
      DeliveryAttemptStatus.ACCEPTED,
    ]);
  });

  it("does not hold the fallback for Telegram's whole retry budget when Telegram is down", async () => {
    // Every Telegram call hangs: a timeout is retryable, so only the fallback budget limits it.
    fakes.telegram.fail("sendMessage", { kind: "slow", ms: 10_000 }, 50);
    const started = performance.now();
    const { deliveryAttempts } = await otp.generate({ deliveryTargets: telegramThenSms });
    const elapsed = performance.now() - started;
    expect(deliveryAttempts.map((a) => [a.status, a.errorReason])).toEqual([
      [DeliveryAttemptStatus.FAILED, "PROVIDER_TIMEOUT"],
      [DeliveryAttemptStatus.ACCEPTED, ""],
    ]);
    // DELIVERY_FALLBACK_BUDGET_MS is 400 ms; the retry budget alone would be 3 s.
    expect(elapsed).toBeLessThan(2_500);
    expect(fakes.twilio.messages).toHaveLength(1);
  });

  it("tries a channel that just failed only once while a fallback waits, and reports it unhealthy", async () => {
    // A server of its own: earlier tests left this one's Telegram marked unhealthy.
    const fresh = await startTestServer(providerEnv(fakes));
    try {
      const options = { baseUrl: fresh.url, protocol: "connect" as const };
      const client = createOtpClient(options);
      fakes.telegram.fail("sendMessage", { kind: "server_error" }, 50);
      await client.generate({ deliveryTargets: telegramThenSms });
      const firstCalls = fakes.telegram.callsTo("sendMessage").length;
      expect(firstCalls).toBeGreaterThan(1);
      const { channels } = await createDeliveryClient(options).listChannels({});
      expect(channels.find((c) => c.channel === Channel.TELEGRAM)?.healthy).toBe(false);
      expect(channels.find((c) => c.channel === Channel.SMS)?.healthy).toBe(true);

      const { deliveryAttempts } = await client.generate({ deliveryTargets: telegramThenSms });
      expect(fakes.telegram.callsTo("sendMessage").length - firstCalls).toBe(1);
      expect(deliveryAttempts[1]?.status).toBe(DeliveryAttemptStatus.ACCEPTED);
    } finally {
      await fresh.close();
    }
  });

  it("skips later targets once one accepts", async () => {
    const { deliveryAttempts } = await otp.generate({
      deliveryTargets: [
        { channel: Channel.EMAIL, recipient: "ada@example.com" },
        { channel: Channel.SMS, recipient: "+14155552671" },
      ],
    });
    expect(deliveryAttempts.map((a) => a.status)).toEqual([
      DeliveryAttemptStatus.ACCEPTED,
      DeliveryAttemptStatus.SKIPPED,
    ]);
    expect(fakes.twilio.requests).toBe(0);
  });

  it("deletes the Telegram message once its code is verified", async () => {
    const { id, deliveryId } = await otp.generate({ deliveryTargets: telegramThenSms });
    const code = /(\d{6})/.exec(String(fakes.telegram.callsTo("sendMessage")[0]?.body.text))?.[1];
    expect((await otp.verify({ id, code: code ?? "" })).result).toBe(VerifyResult.VERIFIED);
    await expect.poll(() => fakes.telegram.callsTo("deleteMessage").length).toBe(1);
    expect(fakes.telegram.callsTo("deleteMessage")[0]?.body).toMatchObject({ chat_id: "8101" });
    await expect
      .poll(async () => (await delivery.getDelivery({ id: deliveryId })).delivery?.status)
      .toBe(DeliveryStatus.DELETED);
  });

  it("fails Generate when every target fails, with every attempt recorded", async () => {
    fakes.telegram.fail("sendMessage", { kind: "blocked" });
    fakes.twilio.fail({ kind: "invalid_number" });
    const err = await otp.generate({ deliveryTargets: telegramThenSms }).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "DELIVERY_FAILED" });
  });

  it("resends through the same fallback, in the language of the challenge", async () => {
    const eager = await startTestServer({ ...providerEnv(fakes), RESEND_COOLDOWN_SECONDS: "0" });
    try {
      const client = createOtpClient({ baseUrl: eager.url, protocol: "connect" });
      const { id } = await client.generate({ locale: "es", deliveryTargets: telegramThenSms });
      expect(fakes.telegram.callsTo("sendMessage")[0]?.body.text).toMatch(/^Tu código/);
      fakes.telegram.fail("sendMessage", { kind: "blocked" });
      const resent = await client.resend({ id });
      expect(resent.deliveryAttempts.map((a) => a.status)).toEqual([
        DeliveryAttemptStatus.FAILED,
        DeliveryAttemptStatus.ACCEPTED,
      ]);
      expect(fakes.twilio.messages[0]?.body).toMatch(/^Tu código de verificación es \d{6}\./);
      // The same code as the first message: a person holding both holds one code.
      const first = /(\d{6})/.exec(
        String(fakes.telegram.callsTo("sendMessage")[0]?.body.text),
      )?.[1];
      expect(/(\d{6})/.exec(fakes.twilio.messages[0]?.body ?? "")?.[1]).toBe(first);
    } finally {
      await eager.close();
    }
  });
});

describe("codes phones fill in themselves", () => {
  it("ends a code SMS with the app hash and the origin-bound line when configured", async () => {
    const filling = await startTestServer({
      ...providerEnv(fakes),
      SMS_RETRIEVER_APP_HASH: "FA+9qCX9VSu",
      SMS_ORIGIN_BOUND_DOMAIN: "login.example.com",
    });
    try {
      const client = createOtpClient({ baseUrl: filling.url, protocol: "connect" });
      await client.generate({
        deliveryTargets: [{ channel: Channel.SMS, recipient: "+14155552671" }],
      });
      const body = fakes.twilio.messages[0]?.body ?? "";
      const code = /(\d{6})/.exec(body)?.[1];
      expect(body.split("\n").slice(-2)).toEqual(["FA+9qCX9VSu", `@login.example.com #${code}`]);
    } finally {
      await filling.close();
    }
  });
});
