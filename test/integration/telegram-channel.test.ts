import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Channel, OutgoingMessage, SendReceipt } from "../../src/delivery/channel.js";
import { DeliveryError } from "../../src/delivery/delivery-error.js";
import type { RetryPolicy } from "../../src/delivery/retry.js";
import {
  createGrammyBot,
  createTelegramChannel,
  type TelegramChannelOptions,
} from "../../src/delivery/telegram/telegram-channel.js";
import { createMemoryDeletionQueue } from "../../src/store/memory/deletion-queue.js";
import { createMemoryTelegramLinks } from "../../src/store/memory/telegram-links.js";
import { startTelegramFake, type TelegramFake } from "../fakes/telegram-fake.js";

const fast: RetryPolicy = { maxAttempts: 4, baseDelayMs: 5, maxDelayMs: 20, maxTotalMs: 3000 };
let fake: TelegramFake;

beforeAll(async () => {
  fake = await startTelegramFake();
});
afterAll(async () => {
  await fake.close();
});
afterEach(() => {
  fake.reset();
});

function channel(extra: Partial<TelegramChannelOptions> = {}): Channel {
  const bot = createGrammyBot({ token: fake.token, apiRoot: fake.apiRoot, botInfo: fake.botInfo });
  return createTelegramChannel({ api: bot.api, retry: fast, ...extra });
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

describe("Telegram channel through grammy against the Bot API fake", () => {
  it("sends the message to a chat id, protected from forwarding, and returns the message id", async () => {
    const receipt = await channel().send(message("5550001"), "d1");
    const [call] = fake.callsTo("sendMessage");
    expect(call?.body).toMatchObject({
      chat_id: "5550001",
      text: "Your verification code is 493027.",
      protect_content: true,
    });
    expect(receipt).toEqual({
      providerMessageId: expect.stringMatching(/^5550001:\d+$/),
      status: "sent",
      attempts: 1,
    });
    expect(fake.liveMessages("5550001")).toContain(messageIdOf(receipt));
  });

  it("renders the Telegram template in the message's locale when given the code", async () => {
    await channel().send(
      message("5550001", { code: { code: "493027", ttlSeconds: 120, locale: "es" } }),
      "d1",
    );
    expect(fake.callsTo("sendMessage")[0]?.body.text).toBe(
      "Tu código de verificación es 493027. Caduca en 2 minutos. No lo compartas con nadie, ni siquiera con nosotros.",
    );
  });

  it("sends to a public @username", async () => {
    fake.addUsername("@acme_news", -100123);
    await channel().send(message("@acme_news"), "d1");
    expect(fake.liveMessages(-100123)).toHaveLength(1);
  });

  it("resolves a linked phone number to its chat", async () => {
    const links = createMemoryTelegramLinks();
    await links.link("+34612345678", "777");
    await channel({ links }).send(message("+34612345678"), "d1");
    expect(fake.callsTo("sendMessage")[0]?.body.chat_id).toBe("777");
  });

  it("fails at once, without calling Telegram, for a phone number nobody linked", async () => {
    const err = await failure(
      channel({ links: createMemoryTelegramLinks() }).send(message("+34612345678"), "d1"),
    );
    expect(err.reason).toBe("RECIPIENT_NOT_LINKED");
    expect(err.retryable).toBe(false);
    expect(fake.callsTo("sendMessage")).toHaveLength(0);
  });

  it.each([
    ["a 500", { kind: "server_error" }],
    ["a 502 with an HTML body", { kind: "bad_gateway" }],
    ["a dropped connection", { kind: "drop" }],
    ["a 429 with retry_after 0", { kind: "rate_limit", retryAfter: 0 }],
  ] as const)("retries after %s and then succeeds", async (_name, kind) => {
    fake.fail("sendMessage", kind, 2);
    const receipt = await channel().send(message("5550001"), "d1");
    expect(receipt?.status).toBe("sent");
    expect(fake.callsTo("sendMessage")).toHaveLength(3);
  });

  it("fails at once when the chat is not found", async () => {
    fake.fail("sendMessage", { kind: "chat_not_found" });
    const err = await failure(channel().send(message("5550002"), "d1"));
    expect(err).toMatchObject({ reason: "RECIPIENT_NOT_FOUND", retryable: false, httpStatus: 400 });
    expect(fake.callsTo("sendMessage")).toHaveLength(1);
  });

  it("fails at once when the user blocked the bot", async () => {
    fake.fail("sendMessage", { kind: "blocked" });
    const err = await failure(channel().send(message("5550002"), "d1"));
    expect(err).toMatchObject({ reason: "RECIPIENT_UNREACHABLE", retryable: false });
  });

  it("fails as an auth failure with a wrong token", async () => {
    const bot = createGrammyBot({ token: "1:wrong", apiRoot: fake.apiRoot, botInfo: fake.botInfo });
    const err = await failure(
      createTelegramChannel({ api: bot.api, retry: fast }).send(message("5550001"), "d1"),
    );
    expect(err).toMatchObject({ reason: "PROVIDER_AUTH_FAILED", retryable: false });
  });

  it("gives up after the most attempts when Telegram keeps failing, and reports unhealthy", async () => {
    fake.fail("sendMessage", { kind: "server_error" }, 10);
    const telegram = channel();
    const err = await failure(telegram.send(message("5550001"), "d1"));
    expect(err).toMatchObject({ reason: "PROVIDER_UNAVAILABLE", retryable: true, attempts: 4 });
    expect(fake.callsTo("sendMessage")).toHaveLength(4);
    expect(await telegram.healthy()).toBe(false);
  });

  it("does not wait for a retry_after longer than the time left", async () => {
    fake.fail("sendMessage", { kind: "rate_limit", retryAfter: 30 });
    const started = performance.now();
    const err = await failure(channel().send(message("5550001"), "d1"));
    expect(err).toMatchObject({ reason: "PROVIDER_RATE_LIMITED", retryAfterMs: 30_000 });
    expect(fake.callsTo("sendMessage")).toHaveLength(1);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("stays within the total time when Telegram hangs", async () => {
    fake.fail("sendMessage", { kind: "slow", ms: 5000 }, 5);
    const started = performance.now();
    const err = await failure(
      channel({ retry: { ...fast, maxTotalMs: 200 } }).send(message("5550001"), "d1"),
    );
    expect(err.retryable).toBe(true);
    expect(performance.now() - started).toBeLessThan(1500);
  });

  it("never puts the code or the recipient in the error message", async () => {
    fake.fail("sendMessage", { kind: "chat_not_found" });
    const err = await failure(channel().send(message("987654321", { text: "code 493027" }), "d1"));
    expect(err.message).not.toContain("493027");
    expect(err.message).not.toContain("987654321");
    expect(JSON.stringify(err)).not.toContain("493027");
  });

  it("schedules the deletion of a self-destructing message", async () => {
    const queue = createMemoryDeletionQueue();
    const woken: number[] = [];
    const now = Date.now();
    const receipt = await channel({
      deletionQueue: queue,
      now: () => now,
      onDeletionScheduled: (due) => woken.push(due),
    }).send(message("5550003", { selfDestructSeconds: 30 }), "d-sd");
    expect(receipt?.deleteAtMs).toBe(now + 30_000);
    expect(woken).toEqual([now + 30_000]);
    expect(await queue.claimDue(now + 29_999, 10)).toEqual([]);
    expect(await queue.claimDue(now + 30_000, 10)).toEqual([
      { chatId: "5550003", messageId: messageIdOf(receipt), deliveryId: "d-sd" },
    ]);
  });

  it("refuses a self-destructing message when it has no deletion queue", async () => {
    const err = await failure(channel().send(message("5550003", { selfDestructSeconds: 30 }), "d"));
    expect(err.reason).toBe("SELF_DESTRUCT_UNAVAILABLE");
    expect(fake.callsTo("sendMessage")).toHaveLength(0);
  });

  it("takes the message back when its deletion cannot be scheduled", async () => {
    const broken = createMemoryDeletionQueue();
    broken.schedule = async () => {
      throw new Error("store down");
    };
    const err = await failure(
      channel({ deletionQueue: broken }).send(message("5550004", { selfDestructSeconds: 30 }), "d"),
    );
    expect(err.reason).toBe("SELF_DESTRUCT_UNAVAILABLE");
    expect(fake.liveMessages("5550004")).toEqual([]);
  });
});

/** The Telegram message id in a receipt's "<chat id>:<message id>". */
function messageIdOf(receipt: unknown): number {
  return Number((receipt as SendReceipt | undefined)?.providerMessageId.split(":")[1]);
}
