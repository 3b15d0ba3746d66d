import {
  Channel,
  createDeliveryClient,
  createOtpClient,
  type DeliveryClient,
  DeliveryStatus,
} from "@otp/sdk";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { startTestServer } from "../support/test-server.js";

let fakes: ProviderFakes;
let redis: RedisInstance;
const servers: RunningServer[] = [];

beforeAll(async () => {
  [fakes, redis] = await Promise.all([startProviderFakes(), startRedis()]);
}, 30_000);
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  await Promise.all([fakes?.close(), redis?.stop()]);
});
beforeEach(() => fakes.reset());

/** A clock the test moves forward, shared by every instance given it. */
function skewableClock() {
  let offsetMs = 0;
  return {
    now: () => Date.now() + offsetMs,
    advance(ms: number) {
      offsetMs += ms;
    },
  };
}

async function start(
  env: Record<string, string>,
  now: () => number,
): Promise<{ server: RunningServer; client: DeliveryClient }> {
  const server = await startTestServer({ ...providerEnv(fakes), ...env }, { now, watchPollMs: 20 });
  servers.push(server);
  return {
    server,
    client: createDeliveryClient({
      baseUrl: server.url,
      protocol: "grpc",
      retry: { maxAttempts: 1 },
    }),
  };
}

function redisEnv(prefix: string): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: prefix,
    OTP_HMAC_SECRET: "s".repeat(40),
  };
}

async function sendSelfDestructing(client: DeliveryClient, chat: string, seconds = 5) {
  const { delivery } = await client.send({
    channel: Channel.TELEGRAM,
    recipient: chat,
    content: { case: "otp", value: { code: "493027", ttlSeconds: 60 } },
    selfDestructSeconds: seconds,
  });
  if (delivery === undefined) throw new Error("no delivery");
  return delivery;
}

/** Waits until `check` holds, polling; fails the test after `timeoutMs`. */
async function eventually(check: () => boolean | Promise<boolean>, timeoutMs = 5_000) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("Telegram self-destruct through the service", () => {
  it("deletes the message when due, records it, and WatchDelivery ends at deleted", async () => {
    const clock = skewableClock();
    const { client } = await start({}, clock.now);
    const sentAt = clock.now();
    const d = await sendSelfDestructing(client, "9301");
    const deleteAtMs = Number(d.deleteAt?.seconds ?? 0n) * 1000;
    expect(deleteAtMs).toBeGreaterThanOrEqual(Math.floor(sentAt / 1000) * 1000 + 4_000);
    expect(fakes.telegram.liveMessages("9301")).toHaveLength(1);

    const seen: DeliveryStatus[] = [];
    const watching = (async () => {
      for await (const { event } of client.watchDelivery({ id: d.id })) {
        seen.push(event?.status ?? DeliveryStatus.UNSPECIFIED);
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    expect(fakes.telegram.callsTo("deleteMessage")).toHaveLength(0);
    clock.advance(5_000);
    await watching;
    expect(seen).toEqual([DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELETED]);
    expect(fakes.telegram.liveMessages("9301")).toEqual([]);
    const { delivery } = await client.getDelivery({ id: d.id });
    expect(delivery?.status).toBe(DeliveryStatus.DELETED);
  });

  it("applies TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS to a code sent without one", async () => {
    const clock = skewableClock();
    const { server } = await start({ TELEGRAM_SELF_DESTRUCT_DEFAULT_SECONDS: "30" }, clock.now);
    const otp = createOtpClient({ baseUrl: server.url, protocol: "connect" });
    await otp.generate({ deliveryTargets: [{ channel: Channel.TELEGRAM, recipient: "9302" }] });
    expect(fakes.telegram.liveMessages("9302")).toHaveLength(1);
    clock.advance(30_000);
    await eventually(() => fakes.telegram.liveMessages("9302").length === 0);
  });

  it("refuses a self-destruct outside 5 to 86400 seconds", async () => {
    const { client } = await start({}, Date.now);
    const err = await sendSelfDestructing(client, "9303", 4).catch((e: unknown) => e);
    expect(err).toMatchObject({ reason: "SELF_DESTRUCT_INVALID" });
  });
});

describe("Telegram self-destruct on Redis", () => {
  it("deletes, once, a message sent before a restart, from the instance started after it", async () => {
    const clock = skewableClock();
    const first = await start(redisEnv("restart:"), clock.now);
    const d = await sendSelfDestructing(first.client, "9401");
    await first.server.close();
    // The service was down when the message fell due.
    clock.advance(6_000);
    const second = await start(redisEnv("restart:"), clock.now);
    // The new instance follows the delivery the old one made, to its end.
    const seen: DeliveryStatus[] = [];
    for await (const { event } of second.client.watchDelivery({ id: d.id })) {
      seen.push(event?.status ?? DeliveryStatus.UNSPECIFIED);
    }
    expect(seen).toEqual([DeliveryStatus.QUEUED, DeliveryStatus.SENT, DeliveryStatus.DELETED]);
    expect(fakes.telegram.liveMessages("9401")).toEqual([]);
    expect(fakes.telegram.callsTo("deleteMessage")).toHaveLength(1);
  });

  it("lets two instances sharing one Redis delete each message exactly once", async () => {
    const clock = skewableClock();
    const a = await start(redisEnv("pair:"), clock.now);
    const b = await start(redisEnv("pair:"), clock.now);
    const count = 20;
    const sent = await Promise.all(
      Array.from({ length: count }, (_, i) =>
        sendSelfDestructing(i % 2 === 0 ? a.client : b.client, String(9500 + i)),
      ),
    );
    clock.advance(5_000);
    await fakes.telegram.waitForCalls("deleteMessage", count);
    // Both pollers keep running a while: nothing is deleted a second time.
    await new Promise((r) => setTimeout(r, 200));
    const deleted = fakes.telegram.callsTo("deleteMessage").map((c) => String(c.body.chat_id));
    expect(deleted.sort()).toEqual(sent.map((_, i) => String(9500 + i)).sort());
    for (const d of sent) {
      const { delivery } = await a.client.getDelivery({ id: d.id });
      expect(delivery?.history.filter((e) => e.status === DeliveryStatus.DELETED)).toHaveLength(1);
    }
  });
});
