import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { Bot } from "grammy";
import type { Update } from "grammy/types";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createTelegramWebhookHandler,
  installTelegramBotHandlers,
  registerTelegramWebhook,
  startTelegramPolling,
  type TelegramLinkEvent,
  telegramDeepLink,
} from "../../src/delivery/telegram/telegram-bot.js";
import {
  createGrammyBot,
  createTelegramChannel,
} from "../../src/delivery/telegram/telegram-channel.js";
import type { TelegramLinks } from "../../src/delivery/telegram/telegram-links.js";
import { createMemoryTelegramLinks } from "../../src/store/memory/telegram-links.js";
import { startTelegramFake, type TelegramFake } from "../fakes/telegram-fake.js";

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

const alice = { id: 5001, is_bot: false, first_name: "Alice", language_code: "en" };
const mallory = { id: 5002, is_bot: false, first_name: "Mallory", language_code: "es" };
let nextUpdate = 1;
let nextMessage = 1;

/** A private-chat message update, as Telegram sends it. */
function update(
  from: typeof alice,
  content: { text: string } | { contact: Record<string, unknown> },
  chat: Record<string, unknown> = { id: from.id, type: "private", first_name: from.first_name },
): Update {
  const message: Record<string, unknown> = {
    message_id: nextMessage++,
    date: Math.floor(Date.now() / 1000),
    chat,
    from,
    ...content,
  };
  if ("text" in content && content.text.startsWith("/")) {
    const length = content.text.split(" ")[0]?.length ?? 0;
    message.entities = [{ type: "bot_command", offset: 0, length }];
  }
  return { update_id: nextUpdate++, message } as unknown as Update;
}

function setup(): {
  bot: Bot;
  links: TelegramLinks;
  linked: TelegramLinkEvent[];
  errors: unknown[];
} {
  const bot = createGrammyBot({ token: fake.token, apiRoot: fake.apiRoot, botInfo: fake.botInfo });
  const links = createMemoryTelegramLinks();
  const linked: TelegramLinkEvent[] = [];
  const errors: unknown[] = [];
  installTelegramBotHandlers(bot, {
    links,
    onLinked: (e) => linked.push(e),
    onError: (e) => errors.push(e),
  });
  return { bot, links, linked, errors };
}

const replies = () => fake.callsTo("sendMessage").map((c) => c.body);

describe("Telegram bot handlers (handleUpdate with crafted updates)", () => {
  it("answers /start with instructions and a button that shares the phone number", async () => {
    const { bot } = setup();
    await bot.handleUpdate(update(alice, { text: "/start" }));
    const [reply] = replies();
    expect(reply?.chat_id).toBe(alice.id);
    expect(String(reply?.text)).toContain("Share my phone number");
    expect(reply?.reply_markup).toMatchObject({
      keyboard: [[{ text: "Share my phone number", request_contact: true }]],
      one_time_keyboard: true,
    });
  });

  it("answers in the user's language", async () => {
    const { bot } = setup();
    await bot.handleUpdate(update(mallory, { text: "/start" }));
    expect(String(replies()[0]?.text)).toContain("Compartir mi número");
  });

  it("links the sender's own shared contact, so the phone becomes a Telegram recipient", async () => {
    const { bot, links, linked } = setup();
    await bot.handleUpdate(
      update(alice, {
        contact: { phone_number: "34612345678", first_name: "Alice", user_id: alice.id },
      }),
    );
    expect(await links.chatFor("+34612345678")).toBe(String(alice.id));
    expect(linked).toEqual([{ kind: "phone", chatId: String(alice.id), phone: "+34612345678" }]);
    expect(String(replies()[0]?.text)).toContain("+3******5678");
    expect(replies()[0]?.reply_markup).toEqual({ remove_keyboard: true });

    // The channel now reaches Alice by her phone number.
    fake.reset();
    await createTelegramChannel({ api: bot.api, links }).send(
      { recipient: "+34612345678", text: "code", challengeId: "", selfDestructSeconds: 0 },
      "d1",
    );
    expect(replies()[0]?.chat_id).toBe(String(alice.id));
  });

  it("refuses a contact that is not the sender's own", async () => {
    const { bot, links, linked } = setup();
    await bot.handleUpdate(
      update(mallory, {
        contact: { phone_number: "+34612345678", first_name: "Alice", user_id: alice.id },
      }),
    );
    await bot.handleUpdate(
      update(mallory, { contact: { phone_number: "+34612345678", first_name: "No account" } }),
    );
    expect(await links.chatFor("+34612345678")).toBeUndefined();
    expect(linked).toEqual([]);
    expect(replies()).toHaveLength(2);
    expect(String(replies()[0]?.text)).toContain("tu propio número");
  });

  it("ignores contacts shared in groups", async () => {
    const { bot, links } = setup();
    await bot.handleUpdate(
      update(
        alice,
        { contact: { phone_number: "+34612345678", first_name: "Alice", user_id: alice.id } },
        { id: -4001, type: "group", title: "Friends" },
      ),
    );
    expect(await links.chatFor("+34612345678")).toBeUndefined();
    expect(replies()).toEqual([]);
  });

  it("links the chat to an account through a deep-link token, once", async () => {
    const { bot, links, linked } = setup();
    const token = await links.createLinkToken("acct_42", 60_000);
    expect(telegramDeepLink("@otp_test_bot", token)).toBe(
      `https://t.me/otp_test_bot?start=${token}`,
    );
    await bot.handleUpdate(update(alice, { text: `/start ${token}` }));
    expect(await links.chatForAccount("acct_42")).toBe(String(alice.id));
    expect(linked).toEqual([{ kind: "account", chatId: String(alice.id), accountId: "acct_42" }]);
    expect(String(replies()[0]?.text)).toContain("linked to your account");

    await bot.handleUpdate(update(mallory, { text: `/start ${token}` }));
    expect(await links.chatForAccount("acct_42")).toBe(String(alice.id));
    expect(String(replies()[1]?.text)).toContain("caducado");
  });

  it("asks the user to try again when the link store fails", async () => {
    const { bot, links, errors } = setup();
    links.link = async () => {
      throw new Error("store down");
    };
    await bot.handleUpdate(
      update(alice, {
        contact: { phone_number: "+34612345678", first_name: "Alice", user_id: alice.id },
      }),
    );
    expect(errors).toHaveLength(1);
    expect(String(replies()[0]?.text)).toContain("try again");
  });
});

describe("Telegram webhook", () => {
  const secret = "s3cret_token-ABC";
  let server: Server;
  let url: string;
  let state: ReturnType<typeof setup>;

  beforeAll(async () => {
    state = setup();
    const handler = createTelegramWebhookHandler(state.bot, { secretToken: secret });
    server = createServer((req, res) => void handler(req, res));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    url = `http://127.0.0.1:${address.port}/telegram/webhook/abc`;
  });
  afterAll(async () => {
    server.close();
    await once(server, "close");
  });

  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
  const contact = () =>
    JSON.stringify(
      update(alice, {
        contact: { phone_number: "+34612345678", first_name: "Alice", user_id: alice.id },
      }),
    );

  it("handles an update that carries the secret token", async () => {
    const response = await post(contact(), { "x-telegram-bot-api-secret-token": secret });
    expect(response.status).toBe(200);
    expect(await state.links.chatFor("+34612345678")).toBe(String(alice.id));
  });

  it("answers 401 to a wrong or missing secret token and handles nothing", async () => {
    const before = state.linked.length;
    expect((await post(contact(), { "x-telegram-bot-api-secret-token": "wrong" })).status).toBe(
      401,
    );
    expect((await post(contact(), {})).status).toBe(401);
    expect(state.linked).toHaveLength(before);
    expect(replies()).toEqual([]);
  });

  it("answers 400 to a body that is not JSON and 405 to a GET", async () => {
    expect((await post("{nope", { "x-telegram-bot-api-secret-token": secret })).status).toBe(400);
    expect((await fetch(url)).status).toBe(405);
  });

  it("refuses a secret token Telegram would not accept", () => {
    expect(() => createTelegramWebhookHandler(setup().bot, { secretToken: "has space" })).toThrow();
  });

  it("registers the webhook URL and secret with Telegram", async () => {
    await registerTelegramWebhook(state.bot, {
      url: "https://otp.example.com/tg/abc",
      secretToken: secret,
    });
    expect(fake.webhook).toEqual({ url: "https://otp.example.com/tg/abc", secretToken: secret });
  });
});

describe("Telegram long polling", () => {
  it("receives updates through getUpdates and stops cleanly", async () => {
    const { bot, links } = setup();
    const polling = startTelegramPolling(bot, { timeoutSeconds: 5 });
    await polling.started;
    fake.pushUpdate({
      message: {
        message_id: 1,
        date: Math.floor(Date.now() / 1000),
        chat: { id: alice.id, type: "private", first_name: "Alice" },
        from: alice,
        contact: { phone_number: "+34612345678", first_name: "Alice", user_id: alice.id },
      },
    } as unknown as Omit<Update, "update_id">);
    await fake.waitForCalls("sendMessage", 1);
    expect(await links.chatFor("+34612345678")).toBe(String(alice.id));
    await polling.stop();
    expect(fake.callsTo("deleteWebhook")).toHaveLength(1);
  });
});
