import {
  Channel,
  createDeliveryClient,
  createOtpClient,
  type DeliveryClient,
  type OtpClient,
} from "@otp/sdk";
import type { Update } from "grammy/types";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import {
  type RedisCluster,
  type RedisInstance,
  startRedis,
  startRedisCluster,
} from "../support/redis-harness.js";
import { startTestServer } from "../support/test-server.js";

// The recipients driven through the service, and every form of them that must
// not show in any key name or value of any Redis layout.
const phone = "+14155552671";
const email = "Victim.Person@Example.com";
const chatId = "7412589630";
const linkedChat = 8523697410;
const linkedPhone = "+34612345678";
const accountChat = 9630852741;
const outboxRecipient = "outbox.person@example.org";
const forbidden = [
  phone,
  "14155552671",
  "4155552671",
  email,
  email.toLowerCase(),
  "victim.person",
  chatId,
  String(linkedChat),
  String(accountChat),
  linkedPhone,
  "34612345678",
  "612345678",
  outboxRecipient,
  "outbox.person",
];

const hmacSecret = "recipients-at-rest-secret-0123456789abcdef";
const hookSecret = "webhook-secret-0123456789abcdef";
const hookPath = "/telegram/hook-at-rest";

let fakes: ProviderFakes;
let single: RedisInstance;
let second: RedisInstance;
let cluster: RedisCluster;

beforeAll(async () => {
  [fakes, single, second, cluster] = await Promise.all([
    startProviderFakes(),
    startRedis(),
    startRedis(),
    startRedisCluster(),
  ]);
}, 60_000);
afterAll(async () => {
  await Promise.all([fakes?.close(), single?.stop(), second?.stop(), cluster?.stop()]);
});

/** Every database a layout can write to: [port, db] pairs. */
function everyDatabase(): [number, number][] {
  const dbs: [number, number][] = [];
  for (const instance of [single, second]) {
    for (let db = 0; db < 16; db++) dbs.push([instance.port, db]);
  }
  for (const node of cluster.nodes) dbs.push([node.port, 0]);
  return dbs;
}

async function onEachDatabase(work: (client: Redis) => Promise<void>): Promise<void> {
  for (const [port, db] of everyDatabase()) {
    const client = new Redis({ host: "127.0.0.1", port, db, maxRetriesPerRequest: 1 });
    try {
      await work(client);
    } finally {
      client.disconnect();
    }
  }
}

/** Every key name and every value held, as text, with where it was found. */
async function dumpEverything(): Promise<{ where: string; text: string }[]> {
  const found: { where: string; text: string }[] = [];
  await onEachDatabase(async (client) => {
    const where = `${client.options.port}/${client.options.db}`;
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "COUNT", 500);
      cursor = next;
      for (const key of keys) {
        found.push({ where: `${where} key`, text: key });
        const type = await client.type(key);
        let values: string[];
        switch (type) {
          case "string":
            values = [(await client.get(key)) ?? ""];
            break;
          case "hash":
            values = Object.entries(await client.hgetall(key)).flat();
            break;
          case "zset":
            values = await client.zrange(key, 0, -1, "WITHSCORES");
            break;
          case "list":
            values = await client.lrange(key, 0, -1);
            break;
          case "set":
            values = await client.smembers(key);
            break;
          case "stream":
            values = (await client.xrange(key, "-", "+")).flatMap(([id, fields]) => [
              id,
              ...fields,
            ]);
            break;
          default:
            values = [`unexpected type ${type}`];
        }
        for (const value of values) found.push({ where: `${where} ${key}`, text: value });
      }
    } while (cursor !== "0");
  });
  return found;
}

/** A private-chat update, as Telegram sends it: a shared contact or a /start command. */
function chatUpdate(
  updateId: number,
  chat: number,
  content: { contact: Record<string, unknown> } | { text: string },
): Update {
  const message: Record<string, unknown> = {
    message_id: updateId,
    date: Math.floor(Date.now() / 1000),
    chat: { id: chat, type: "private", first_name: "Vic" },
    from: { id: chat, is_bot: false, first_name: "Vic" },
    ...content,
  };
  if ("text" in content) {
    message.entities = [{ type: "bot_command", offset: 0, length: "/start".length }];
  }
  return { update_id: updateId, message } as unknown as Update;
}

const layouts: Record<string, () => Record<string, string>> = {
  "single Redis": () => ({ REDIS_URL: single.url }),
  "DB-index shards": () => ({ REDIS_URL: single.url, REDIS_DB_RANGE: "2-5" }),
  "URL shards": () => ({ REDIS_SHARD_URLS: `${single.url},${second.url}` }),
  "Redis Cluster": () => ({ REDIS_CLUSTER_NODES: cluster.seeds }),
};

for (const [name, layoutEnv] of Object.entries(layouts)) {
  describe(`recipients at rest: ${name}`, () => {
    let server: RunningServer;
    let otp: OtpClient;
    let delivery: DeliveryClient;

    beforeAll(async () => {
      await onEachDatabase(async (client) => {
        await client.flushdb();
      });
      fakes.reset();
      server = await startTestServer({
        ...providerEnv(fakes),
        ...layoutEnv(),
        OTP_HMAC_SECRET: hmacSecret,
        TELEGRAM_UPDATES: "webhook",
        TELEGRAM_WEBHOOK_URL: `https://otp.example.com${hookPath}`,
        TELEGRAM_WEBHOOK_SECRET: hookSecret,
        RATE_LIMIT_SENDS_PER_RECIPIENT: "100/1h",
        RESEND_COOLDOWN_SECONDS: "0",
      });
      const options = {
        baseUrl: server.url,
        protocol: "connect" as const,
        retry: { maxAttempts: 1 },
      };
      otp = createOtpClient(options);
      delivery = createDeliveryClient(options);
    }, 30_000);
    afterAll(async () => {
      await server?.close();
    });

    it("keeps no recipient in any key name or value after every kind of traffic", async () => {
      // Telegram: link a phone (a shared contact) and an account (a deep
      // link) through the bot's webhook, then send to both.
      const postUpdate = async (update: Update) => {
        const answer = await fetch(`${server.url}${hookPath}`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            "x-telegram-bot-api-secret-token": hookSecret,
          },
          body: JSON.stringify(update),
        });
        expect(answer.status).toBe(200);
      };
      await postUpdate(
        chatUpdate(1, linkedChat, {
          contact: { phone_number: linkedPhone.slice(1), first_name: "Vic", user_id: linkedChat },
        }),
      );
      const { url } = await delivery.createTelegramLink({ accountId: "user-42" });
      const token = new URL(url).searchParams.get("start") ?? "";
      await postUpdate(chatUpdate(2, accountChat, { text: `/start ${token}` }));
      await delivery.send({
        channel: Channel.TELEGRAM,
        recipient: "account:user-42",
        content: { case: "text", value: "to the account" },
      });

      // Send over every channel, with idempotency keys, with a message that
      // self-destructs soon (sent first, deleted while the rest runs) and one
      // that waits in the deletion queue.
      await delivery.send({
        channel: Channel.TELEGRAM,
        recipient: chatId,
        content: { case: "text", value: "gone soon" },
        selfDestructSeconds: 5,
      });
      await delivery.send({
        channel: Channel.SMS,
        recipient: phone,
        content: { case: "text", value: "hello" },
        idempotencyKey: "send-sms-1",
      });
      await delivery.send({
        channel: Channel.EMAIL,
        recipient: email,
        content: { case: "otp", value: { code: "493027", ttlSeconds: 60 } },
        idempotencyKey: "send-email-1",
      });
      await delivery.send({
        channel: Channel.TELEGRAM,
        recipient: linkedPhone,
        content: { case: "text", value: "gone later" },
        selfDestructSeconds: 3600,
      });
      await delivery.send({
        channel: Channel.OUTBOX,
        recipient: outboxRecipient,
        content: { case: "text", value: "into the outbox" },
      });

      // Generate with targets (and an idempotency key, replayed), then Resend.
      const generateRequest = {
        deliveryTargets: [
          { channel: Channel.SMS, recipient: phone },
          { channel: Channel.EMAIL, recipient: email },
        ],
        idempotencyKey: "generate-1",
      };
      const generated = await otp.generate(generateRequest);
      expect((await otp.generate(generateRequest)).id).toBe(generated.id);
      await otp.resend({ id: generated.id });
      const viaTelegram = await otp.generate({
        deliveryTargets: [
          { channel: Channel.TELEGRAM, recipient: linkedPhone, selfDestructSeconds: 3600 },
        ],
      });
      await otp.getChallenge({ id: viaTelegram.id });

      // The linked phone and account reached their chats; the short-lived message was deleted.
      const chats = fakes.telegram.callsTo("sendMessage").map((c) => c.body.chat_id);
      expect(chats).toContain(String(linkedChat));
      expect(chats).toContain(String(accountChat));
      for (let i = 0; i < 400 && fakes.telegram.callsTo("deleteMessage").length === 0; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(fakes.telegram.callsTo("deleteMessage")[0]?.body.chat_id).toBe(chatId);

      // The dev outbox still filters by recipient and shows the message.
      const listed = await delivery.listOutbox({ recipient: outboxRecipient });
      expect(listed.messages.map((m) => [m.recipient, m.text])).toEqual([
        [outboxRecipient, "into the outbox"],
      ]);
      expect((await delivery.listOutbox({ recipient: "someone@else.example" })).messages).toEqual(
        [],
      );

      const dump = await dumpEverything();
      expect(dump.length).toBeGreaterThan(10);
      const leaks = dump.filter(({ text }) => forbidden.some((f) => text.includes(f)));
      expect(leaks).toEqual([]);
    }, 30_000);
  });
}
