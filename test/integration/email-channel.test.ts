import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Channel, OutgoingMessage } from "../../src/delivery/channel.js";
import { DeliveryError } from "../../src/delivery/delivery-error.js";
import {
  createEmailChannel,
  type EmailChannelOptions,
} from "../../src/delivery/email/email-channel.js";
import type { RetryPolicy } from "../../src/delivery/retry.js";
import { type ResendFake, startResendFake } from "../fakes/resend-fake.js";

const fast: RetryPolicy = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 3000 };
const from = "Acme <login@mail.acme.test>";
let fake: ResendFake;

beforeAll(async () => {
  fake = await startResendFake();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
});

function channel(extra: Partial<EmailChannelOptions> = {}): Channel {
  return createEmailChannel({
    apiKey: fake.apiKey,
    baseUrl: fake.baseUrl,
    from,
    retry: fast,
    requestTimeoutMs: 2000,
    ...extra,
  });
}

const message = (extra: Partial<OutgoingMessage> = {}): OutgoingMessage => ({
  recipient: "alice@example.com",
  text: "Your verification code is 493027.",
  challengeId: "c1",
  selfDestructSeconds: 0,
  code: { code: "493027", ttlSeconds: 600 },
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

describe("email channel through the Resend SDK against the Resend fake", () => {
  it("sends subject, text and HTML from the email template, from the configured sender", async () => {
    const receipt = await channel().send(message(), "d1");
    expect(fake.emails).toHaveLength(1);
    const [email] = fake.emails;
    expect(email).toMatchObject({
      from,
      to: ["alice@example.com"],
      subject: "493027 is your verification code",
      idempotencyKey: "d1",
    });
    expect(email?.text).toContain("It expires in 10 minutes. Never share it with anyone");
    expect(email?.html).toContain("493027");
    expect(email?.html).toContain('<html lang="en">');
    expect(receipt).toEqual({ providerMessageId: email?.id, status: "sent", attempts: 1 });
  });

  it("renders the template in the message's locale", async () => {
    await channel().send(
      message({ code: { code: "493027", ttlSeconds: 600, locale: "de" } }),
      "d1",
    );
    expect(fake.emails[0]?.subject).toBe("493027 ist dein Bestätigungscode");
    expect(fake.emails[0]?.text).toContain("10 Minuten");
  });

  it("sends a free-text message with the given subject", async () => {
    await channel().send(message({ code: undefined, subject: "Hello" }), "d1");
    expect(fake.emails[0]).toMatchObject({
      subject: "Hello",
      text: "Your verification code is 493027.",
      html: undefined,
    });
  });

  it("sends one email for one delivery id, even when sent twice", async () => {
    const first = await channel().send(message(), "same-delivery");
    const second = await channel().send(message(), "same-delivery");
    expect(second?.providerMessageId).toBe(first?.providerMessageId);
    expect(fake.emails).toHaveLength(1);
  });

  it.each([
    ["a 500", { kind: "server_error" }],
    ["a 429 with Retry-After 0", { kind: "rate_limit", retryAfterSeconds: 0 }],
    ["a dropped connection", { kind: "drop" }],
  ] as const)("retries after %s and then succeeds", async (_name, kind) => {
    fake.fail(kind, 2);
    const receipt = await channel().send(message(), "d1");
    expect(receipt).toMatchObject({ status: "sent", attempts: 3 });
    expect(fake.requests).toBe(3);
    expect(fake.emails).toHaveLength(1);
  });

  it("fails at once on a validation error", async () => {
    fake.fail({ kind: "validation_error" });
    const err = await failure(channel().send(message(), "d1"));
    expect(err).toMatchObject({
      reason: "PROVIDER_REJECTED",
      retryable: false,
      httpStatus: 422,
      providerCode: "validation_error",
    });
    expect(fake.requests).toBe(1);
  });

  it("fails at once when the daily quota is used up, although it is a 429", async () => {
    fake.fail({ kind: "daily_quota" });
    const err = await failure(channel().send(message(), "d1"));
    expect(err).toMatchObject({ reason: "PROVIDER_QUOTA_EXCEEDED", retryable: false });
    expect(fake.requests).toBe(1);
  });

  it("does not wait for a Retry-After longer than the time left", async () => {
    fake.fail({ kind: "rate_limit", retryAfterSeconds: 60 });
    const err = await failure(channel().send(message(), "d1"));
    expect(err).toMatchObject({ reason: "PROVIDER_RATE_LIMITED", retryAfterMs: 60_000 });
    expect(fake.requests).toBe(1);
  });

  it("fails as an auth failure with a wrong API key", async () => {
    const err = await failure(channel({ apiKey: "re_wrong" }).send(message(), "d1"));
    expect(err).toMatchObject({ reason: "PROVIDER_AUTH_FAILED", retryable: false });
    expect(err.message).not.toContain("493027");
    expect(err.message).not.toContain("alice");
  });

  it("gives up after the most attempts while Resend keeps failing, and reports unhealthy", async () => {
    fake.fail({ kind: "server_error" }, 10);
    const email = channel();
    const err = await failure(email.send(message(), "d1"));
    expect(err).toMatchObject({ reason: "PROVIDER_UNAVAILABLE", attempts: 4 });
    expect(await email.healthy()).toBe(false);
  });

  it("stays within the total time when Resend hangs", async () => {
    fake.fail({ kind: "slow", ms: 5000 }, 5);
    const started = performance.now();
    const err = await failure(
      channel({ retry: { ...fast, maxTotalMs: 200 } }).send(message(), "d1"),
    );
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
