import { once } from "node:events";
import { createServer, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Channel, OutgoingMessage } from "../../src/delivery/channel.js";
import { DeliveryError } from "../../src/delivery/delivery-error.js";
import type { RetryPolicy } from "../../src/delivery/retry.js";
import {
  createTwilioChannel,
  createTwilioClient,
  type TwilioChannelOptions,
} from "../../src/delivery/twilio/twilio-channel.js";
import {
  createTwilioStatusHandler,
  type TwilioStatusEvent,
} from "../../src/delivery/twilio/twilio-status.js";
import { startTwilioFake, type TwilioFake } from "../fakes/twilio-fake.js";

const fast: RetryPolicy = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 3000 };
const sender = "+14155550100";
let fake: TwilioFake;

beforeAll(async () => {
  fake = await startTwilioFake();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
});

function channel(extra: Partial<TwilioChannelOptions> = {}): Channel {
  const client = createTwilioClient({
    accountSid: fake.accountSid,
    authToken: fake.authToken,
    baseUrl: fake.baseUrl,
    requestTimeoutMs: 2000,
  });
  return createTwilioChannel({
    kind: "sms",
    client,
    from: sender,
    phonePolicy: { allowedCountries: new Set(["US", "ES"]) },
    retry: fast,
    ...extra,
  });
}

const message = (recipient: string, extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  recipient,
  text: "Your verification code is 493027.",
  challengeId: "c1",
  selfDestructSeconds: 0,
  ...extra,
});

async function failure(promise: Promise<unknown>): Promise<DeliveryError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof DeliveryError) return err;
    throw err;
  }
  throw new Error("expected the send to fail");
}

describe("Twilio SMS and WhatsApp through the SDK against the Messages API fake", () => {
  it("sends an SMS with the template, its validity and returns the message SID", async () => {
    const receipt = await channel().send(
      message("+34612345678", { code: { code: "493027", ttlSeconds: 300, locale: "es" } }),
      "d1",
    );
    expect(fake.messages).toHaveLength(1);
    const [sent] = fake.messages;
    expect(sent).toMatchObject({
      to: "+34612345678",
      from: sender,
      body: "Tu código de verificación es 493027. Caduca en 5 minutos. No lo compartas con nadie.",
      validityPeriod: "300",
      statusCallback: undefined,
    });
    expect(receipt).toEqual({ providerMessageId: sent?.sid, status: "queued", attempts: 1 });
  });

  it("sends free text as given", async () => {
    await channel().send(message("+34612345678"), "d1");
    expect(fake.messages[0]?.body).toBe("Your verification code is 493027.");
  });

  it("prefixes both addresses with whatsapp: on the WhatsApp channel", async () => {
    await channel({ kind: "whatsapp" }).send(message("+34612345678"), "d1");
    expect(fake.messages[0]).toMatchObject({
      to: "whatsapp:+34612345678",
      from: `whatsapp:${sender}`,
    });
  });

  it("sends a code over WhatsApp with the approved content template when configured", async () => {
    await channel({ kind: "whatsapp", whatsappContentSid: "HX0123" }).send(
      message("+34612345678", { code: { code: "493027", ttlSeconds: 60 } }),
      "d1",
    );
    expect(fake.messages[0]).toMatchObject({
      contentSid: "HX0123",
      contentVariables: JSON.stringify({ "1": "493027" }),
      body: undefined,
    });
  });

  it("sends through a messaging service when one is configured", async () => {
    await channel({ from: undefined, messagingServiceSid: "MG123" }).send(
      message("+34612345678"),
      "d1",
    );
    expect(fake.messages[0]).toMatchObject({ messagingServiceSid: "MG123", from: undefined });
  });

  it("normalises the recipient to E.164", async () => {
    await channel().send(message("+1 (415) 555-2671"), "d1");
    expect(fake.messages[0]?.to).toBe("+14155552671");
  });

  it.each([
    ["a country outside the allow-list", "+4915112345678", "COUNTRY_NOT_ALLOWED"],
    ["an invalid number", "+1415555", "RECIPIENT_INVALID"],
    ["a premium-rate number", "+19005551234", "NUMBER_TYPE_NOT_ALLOWED"],
  ])("refuses %s without calling Twilio", async (_name, recipient, reason) => {
    const err = await failure(channel().send(message(recipient), "d1"));
    expect(err).toMatchObject({ reason, retryable: false });
    expect(fake.requests).toBe(0);
  });

  it.each([
    ["a 429", { kind: "rate_limit" }],
    ["a 500", { kind: "server_error" }],
    ["a 503 with a text body", { kind: "unavailable_text" }],
    ["a dropped connection", { kind: "drop" }],
  ] as const)("retries after %s and then succeeds", async (_name, kind) => {
    fake.fail(kind, 2);
    const receipt = await channel().send(message("+34612345678"), "d1");
    expect(receipt?.status).toBe("queued");
    expect(fake.requests).toBe(3);
    expect(fake.messages).toHaveLength(1);
  });

  it("fails at once on Twilio's invalid-number error without quoting the number", async () => {
    fake.fail({ kind: "invalid_number" });
    const err = await failure(channel().send(message("+34612345678"), "d1"));
    expect(err).toMatchObject({
      reason: "RECIPIENT_INVALID",
      retryable: false,
      httpStatus: 400,
      providerCode: "21211",
    });
    expect(fake.requests).toBe(1);
    expect(err.message).not.toContain("612345678");
    expect(JSON.stringify(err)).not.toContain("612345678");
  });

  it("fails at once for a recipient who opted out", async () => {
    fake.fail({ kind: "unsubscribed" });
    const err = await failure(channel().send(message("+34612345678"), "d1"));
    expect(err).toMatchObject({ reason: "RECIPIENT_OPTED_OUT", retryable: false });
  });

  it("fails as an auth failure with a wrong auth token", async () => {
    const client = createTwilioClient({
      accountSid: fake.accountSid,
      authToken: "wrong",
      baseUrl: fake.baseUrl,
    });
    const err = await failure(
      channel({ client }).send(message("+34612345678", { text: "code 493027" }), "d1"),
    );
    expect(err).toMatchObject({ reason: "PROVIDER_AUTH_FAILED", providerCode: "20003" });
    expect(err.message).not.toContain("493027");
  });

  it("gives up after the most attempts while Twilio keeps failing, and reports unhealthy", async () => {
    fake.fail({ kind: "server_error" }, 10);
    const sms = channel();
    const err = await failure(sms.send(message("+34612345678"), "d1"));
    expect(err).toMatchObject({ reason: "PROVIDER_UNAVAILABLE", attempts: 4 });
    expect(fake.requests).toBe(4);
    expect(await sms.healthy()).toBe(false);
  });

  it("stays within the total time when Twilio hangs", async () => {
    fake.fail({ kind: "slow", ms: 5000 }, 5);
    const started = performance.now();
    const err = await failure(
      channel({ retry: { ...fast, maxTotalMs: 200 } }).send(message("+34612345678"), "d1"),
    );
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });
});

describe("Twilio status callbacks", () => {
  const events: TwilioStatusEvent[] = [];
  let server: Server;
  let callbackUrl: string;

  beforeAll(async () => {
    server = createServer((req, res) => void handler(req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    callbackUrl = `http://127.0.0.1:${address.port}/twilio/status`;
    handler = createTwilioStatusHandler({
      authToken: fake.authToken,
      publicUrl: callbackUrl,
      onStatus: (event) => {
        events.push(event);
      },
    });
  });
  let handler: ReturnType<typeof createTwilioStatusHandler>;
  afterAll(async () => {
    server.close();
    await once(server, "close");
  });

  it("asks Twilio to report to the callback URL with the delivery id, and records signed reports", async () => {
    await channel({ statusCallbackUrl: callbackUrl }).send(message("+34612345678"), "delivery-7");
    const [sent] = fake.messages;
    if (sent === undefined) throw new Error("nothing sent");
    expect(sent.statusCallback).toBe(`${callbackUrl}?delivery=delivery-7`);

    expect(await fake.postStatusCallback(sent, "sent")).toBe(204);
    expect(await fake.postStatusCallback(sent, "delivered")).toBe(204);
    expect(events.map((e) => [e.deliveryId, e.providerMessageId, e.status])).toEqual([
      ["delivery-7", sent.sid, "sent"],
      ["delivery-7", sent.sid, "delivered"],
    ]);
  });

  it("refuses reports signed with another token or altered after signing", async () => {
    events.length = 0;
    await channel({ statusCallbackUrl: callbackUrl }).send(message("+34612345678"), "delivery-8");
    const [sent] = fake.messages;
    if (sent === undefined) throw new Error("nothing sent");
    expect(await fake.postStatusCallback(sent, "failed", { signWith: "not-the-token" })).toBe(403);
    expect(await fake.postStatusCallback(sent, "failed", { tamper: true })).toBe(403);
    expect(events).toEqual([]);
    expect(await fake.postStatusCallback(sent, "undelivered", { errorCode: "30003" })).toBe(204);
    expect(events).toEqual([
      expect.objectContaining({
        status: "failed",
        providerStatus: "undelivered",
        errorCode: "30003",
      }),
    ]);
  });
});
