import { Channel, Code, createDeliveryClient, type DeliveryClient, OtpError } from "@otp/sdk";
import type { Update } from "grammy/types";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { startTestServer } from "../support/test-server.js";

const secret = "webhook-secret-0123456789abcdef";
const hookPath = "/telegram/hook-7f3a9c";
const alice = { id: 6001, is_bot: false, first_name: "Alice", language_code: "en" };
let nextUpdate = 1;
let nextMessage = 1;

/** A private-chat message from Alice, as Telegram sends it. */
function fromAlice(content: { text: string } | { contact: Record<string, unknown> }): Update {
  const message: Record<string, unknown> = {
    message_id: nextMessage++,
    date: Math.floor(Date.now() / 1000),
    chat: { id: alice.id, type: "private", first_name: alice.first_name },
    from: alice,
    ...content,
  };
  if ("text" in content && content.text.startsWith("/")) {
    const length = content.text.split(" ")[0]?.length ?? 0;
    message.entities = [{ type: "bot_command", offset: 0, length }];
  }
  return { update_id: nextUpdate++, message } as unknown as Update;
}

const aliceContact = {
  contact: { phone_number: "34612345678", first_name: "Alice", user_id: alice.id },
};

let fakes: ProviderFakes;
beforeAll(async () => {
  fakes = await startProviderFakes();
});
afterAll(async () => {
  await fakes?.close();
});
beforeEach(() => fakes.reset());

const replies = () => fakes.telegram.callsTo("sendMessage").map((c) => c.body);

function deliveryClient(server: RunningServer): DeliveryClient {
  return createDeliveryClient({
    baseUrl: server.url,
    protocol: "connect",
    retry: { maxAttempts: 1 },
  });
}

describe("Telegram webhook on the service's own port", () => {
  let server: RunningServer;
  let delivery: DeliveryClient;

  beforeAll(async () => {
    server = await startTestServer({
      ...providerEnv(fakes),
      TELEGRAM_UPDATES: "webhook",
      TELEGRAM_WEBHOOK_URL: `https://otp.example.com${hookPath}`,
      TELEGRAM_WEBHOOK_SECRET: secret,
    });
    delivery = deliveryClient(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  const post = (update: Update, token = secret) =>
    fetch(`${server.url}${hookPath}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-telegram-bot-api-secret-token": token },
      body: JSON.stringify(update),
    });

  it("registers the webhook with its URL and secret at start", async () => {
    for (let i = 0; i < 100 && fakes.telegram.webhook === undefined; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(fakes.telegram.webhook).toEqual({
      url: `https://otp.example.com${hookPath}`,
      secretToken: secret,
    });
  });

  it("answers /start with instructions", async () => {
    expect((await post(fromAlice({ text: "/start" }))).status).toBe(200);
    expect(String(replies()[0]?.text)).toContain("Share my phone number");
  });

  it("refuses an update without the secret token, and a GET", async () => {
    expect((await post(fromAlice(aliceContact), "wrong-secret-token")).status).toBe(401);
    expect((await fetch(`${server.url}${hookPath}`)).status).toBe(405);
    const err = await delivery
      .send({
        channel: Channel.TELEGRAM,
        recipient: "+34612345678",
        content: { case: "text", value: "x" },
      })
      .catch((e: unknown) => e);
    expect((err as OtpError).info.failure_reason).toBe("RECIPIENT_NOT_LINKED");
  });

  it("links a shared contact, so the phone number becomes a Telegram recipient", async () => {
    expect((await post(fromAlice(aliceContact))).status).toBe(200);
    fakes.telegram.reset();
    await delivery.send({
      channel: Channel.TELEGRAM,
      recipient: "+34 612 345 678",
      content: { case: "otp", value: { code: "493027", ttlSeconds: 60 } },
    });
    expect(replies()[0]).toMatchObject({ chat_id: String(alice.id) });
    expect(String(replies()[0]?.text)).toContain("493027");
  });

  it("makes a single-use deep link that links an account", async () => {
    const { url, expiresAt } = await delivery.createTelegramLink({ accountId: "user-42" });
    expect(url).toMatch(/^https:\/\/t\.me\/otp_test_bot\?start=[A-Za-z0-9_-]{43}$/);
    expect(Number(expiresAt?.seconds) * 1000).toBeGreaterThan(Date.now());
    const token = new URL(url).searchParams.get("start") ?? "";
    expect((await post(fromAlice({ text: `/start ${token}` }))).status).toBe(200);
    expect(String(replies()[0]?.text)).toContain("linked to your account");
    await delivery.send({
      channel: Channel.TELEGRAM,
      recipient: "account:user-42",
      content: { case: "text", value: "hello account" },
    });
    expect(replies()[1]).toMatchObject({ chat_id: String(alice.id), text: "hello account" });
    // The token works once.
    await post(fromAlice({ text: `/start ${token}` }));
    expect(String(replies()[2]?.text)).toContain("expired or was already used");
  });

  it("refuses a malformed account id", async () => {
    const err = await delivery.createTelegramLink({ accountId: "has spaces" }).catch((e) => e);
    expect([(err as OtpError).code, (err as OtpError).reason]).toEqual([
      Code.InvalidArgument,
      "ACCOUNT_ID_INVALID",
    ]);
  });
});

describe("Telegram long polling", () => {
  it("answers updates it polls for, and stops promptly with the service", async () => {
    const server = await startTestServer({ ...providerEnv(fakes), TELEGRAM_UPDATES: "polling" });
    try {
      fakes.telegram.pushUpdate(fromAlice(aliceContact));
      await fakes.telegram.waitForCalls("sendMessage", 1);
      expect(String(replies()[0]?.text)).toContain("+3******5678");
      fakes.telegram.reset();
      await deliveryClient(server).send({
        channel: Channel.TELEGRAM,
        recipient: "+34612345678",
        content: { case: "text", value: "by phone" },
      });
      expect(replies()[0]).toMatchObject({ chat_id: String(alice.id), text: "by phone" });
    } finally {
      const started = performance.now();
      await server.close();
      expect(performance.now() - started).toBeLessThan(3_000);
    }
  });

  it("leaves polling to the leader process", async () => {
    const follower = await startTestServer(
      { ...providerEnv(fakes), TELEGRAM_UPDATES: "polling" },
      { leader: false },
    );
    try {
      await new Promise((r) => setTimeout(r, 100));
      expect(fakes.telegram.callsTo("getUpdates")).toEqual([]);
    } finally {
      await follower.close();
    }
  });

  it("refuses CreateTelegramLink without Telegram", async () => {
    const plain = await startTestServer();
    try {
      const err = await deliveryClient(plain)
        .createTelegramLink({ accountId: "user-1" })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OtpError);
      expect((err as OtpError).reason).toBe("CHANNEL_NOT_CONFIGURED");
    } finally {
      await plain.close();
    }
  });
});
