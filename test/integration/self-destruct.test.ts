import { EventEmitter, once } from "node:events";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { OutgoingMessage, SendReceipt } from "../../src/delivery/channel.js";
import type { DeletionQueue } from "../../src/delivery/telegram/deletion-queue.js";
import {
  createSelfDestruct,
  createTelegramDeleter,
  type DeletionOutcome,
  type SelfDestruct,
} from "../../src/delivery/telegram/self-destruct.js";
import {
  createGrammyBot,
  createTelegramChannel,
} from "../../src/delivery/telegram/telegram-channel.js";
import { createMemoryDeletionQueue } from "../../src/store/memory/deletion-queue.js";
import { createRedisDeletionQueue } from "../../src/store/redis/deletion-queue.js";
import { createRedisTopology, type RedisTopology } from "../../src/store/redis/topology.js";
import { startTelegramFake, type TelegramFake } from "../fakes/telegram-fake.js";
import { createFakeClock, type FakeClock } from "../support/fake-clock.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";

const fast = { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10, maxTotalMs: 2000 };
let fake: TelegramFake;
let redis: RedisInstance;
const topologies: RedisTopology[] = [];
const pollers: SelfDestruct[] = [];
let prefixes = 0;

beforeAll(async () => {
  [fake, redis] = await Promise.all([startTelegramFake(), startRedis()]);
}, 30_000);
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
  fake.reset();
});
afterAll(async () => {
  await Promise.all(topologies.map((t) => t.close()));
  await Promise.all([fake?.close(), redis?.stop()]);
});

const bot = () =>
  createGrammyBot({ token: fake.token, apiRoot: fake.apiRoot, botInfo: fake.botInfo });

/** One instance of the service: its own connection, queue handle, channel and poller. */
async function instance(options: {
  queue?: DeletionQueue;
  redisPrefix?: string;
  clock?: FakeClock;
  intervalMs?: number;
  leaseMs?: number;
  /** Makes the channel's clock run this far behind, so a 1-second self-destruct is due sooner. */
  channelLagMs?: number;
}) {
  let queue = options.queue;
  let topology: RedisTopology | undefined;
  if (queue === undefined) {
    topology = createRedisTopology(
      { kind: "single", url: redis.url },
      { commandTimeoutMs: 2000, connectTimeoutMs: 5000 },
    );
    topologies.push(topology);
    await topology.ready();
    queue = createRedisDeletionQueue({
      topology,
      keyPrefix: options.redisPrefix ?? `sd${++prefixes}:`,
      leaseMs: options.leaseMs,
    });
  }
  const now = options.clock?.now ?? Date.now;
  const outcomes: DeletionOutcome[] = [];
  const events = new EventEmitter();
  const api = bot().api;
  const poller = createSelfDestruct({
    queue,
    deleteMessage: createTelegramDeleter(api),
    intervalMs: options.intervalMs ?? 10,
    retryDelayMs: 50,
    now,
    onOutcome: (o) => {
      outcomes.push(o);
      events.emit("outcome");
    },
  });
  pollers.push(poller);
  const channel = createTelegramChannel({
    api,
    deletionQueue: queue,
    retry: fast,
    now: () => now() - (options.channelLagMs ?? 0),
    onDeletionScheduled: (due) => poller.wake(due),
  });
  /** Resolves once the poller has reported `count` outcomes in all. */
  const outcomesReach = async (count: number) => {
    while (outcomes.length < count) await once(events, "outcome");
  };
  return { queue, poller, channel, outcomes, outcomesReach, topology };
}

const message = (chat: string, selfDestructSeconds: number): OutgoingMessage => ({
  recipient: chat,
  text: "Your verification code is 493027.",
  challengeId: "c1",
  selfDestructSeconds,
});

describe("self-destruct with the memory queue", () => {
  it("deletes the message once it is due, not before", async () => {
    const clock = createFakeClock();
    const { channel, poller, outcomes } = await instance({
      queue: createMemoryDeletionQueue(),
      clock,
    });
    const receipt = await channel.send(message("8001", 5), "d1");
    const messageId = messageIdOf(receipt);
    clock.advance(4999);
    expect(await poller.runOnce()).toBe(0);
    expect(fake.liveMessages("8001")).toEqual([messageId]);
    clock.advance(1);
    expect(await poller.runOnce()).toBe(1);
    expect(fake.liveMessages("8001")).toEqual([]);
    expect(fake.callsTo("deleteMessage").map((c) => c.body)).toEqual([
      { chat_id: "8001", message_id: messageId },
    ]);
    expect(outcomes).toEqual([
      { kind: "deleted", item: { chatId: "8001", messageId, deliveryId: "d1" } },
    ]);
  });

  it("deletes on its own after the due time when started", async () => {
    const queue = createMemoryDeletionQueue();
    const { poller, outcomes, outcomesReach } = await instance({ queue });
    const sent = await bot().api.sendMessage("8002", "code");
    const dueMs = Date.now() + 40;
    await queue.schedule({ chatId: "8002", messageId: sent.message_id, deliveryId: "d" }, dueMs);
    poller.start();
    await outcomesReach(1);
    expect(Date.now()).toBeGreaterThanOrEqual(dueMs);
    expect(outcomes[0]?.kind).toBe("deleted");
    expect(fake.liveMessages("8002")).toEqual([]);
  });

  it("wakes at the due time of a new message instead of waiting for the next tick", async () => {
    const { channel, poller, outcomesReach } = await instance({
      queue: createMemoryDeletionQueue(),
      intervalMs: 3_600_000,
      channelLagMs: 950,
    });
    poller.start();
    await poller.runOnce();
    const receipt = await channel.send(message("8003", 1), "d1");
    await outcomesReach(1);
    expect(Date.now()).toBeGreaterThanOrEqual(receipt?.deleteAtMs ?? Number.POSITIVE_INFINITY);
    expect(fake.liveMessages("8003")).toEqual([]);
  });

  it("retries a deletion Telegram refused for now, after its retry_after", async () => {
    const clock = createFakeClock();
    const { channel, poller, outcomes, queue } = await instance({
      queue: createMemoryDeletionQueue(),
      clock,
    });
    await channel.send(message("8004", 5), "d1");
    fake.fail("deleteMessage", { kind: "rate_limit", retryAfter: 3 });
    clock.advance(5000);
    await poller.runOnce();
    expect(outcomes[0]).toMatchObject({ kind: "retrying", retryAtMs: clock.now() + 3000 });
    expect(await queue.size()).toBe(1);
    clock.advance(3000);
    await poller.runOnce();
    expect(outcomes[1]?.kind).toBe("deleted");
    expect(fake.liveMessages("8004")).toEqual([]);
    expect(await queue.size()).toBe(0);
  });

  it("counts a message someone already deleted as deleted", async () => {
    const clock = createFakeClock();
    const { channel, poller, outcomes } = await instance({
      queue: createMemoryDeletionQueue(),
      clock,
    });
    const receipt = await channel.send(message("8005", 5), "d1");
    await bot().api.deleteMessage("8005", messageIdOf(receipt));
    clock.advance(5000);
    await poller.runOnce();
    expect(outcomes.map((o) => o.kind)).toEqual(["deleted"]);
  });

  it("gives up on a deletion Telegram refuses for good", async () => {
    const clock = createFakeClock();
    const { channel, poller, outcomes, queue } = await instance({
      queue: createMemoryDeletionQueue(),
      clock,
    });
    await channel.send(message("8006", 5), "d1");
    fake.fail("deleteMessage", { kind: "blocked" });
    clock.advance(5000);
    await poller.runOnce();
    expect(outcomes[0]).toMatchObject({
      kind: "failed",
      error: { reason: "RECIPIENT_UNREACHABLE" },
    });
    expect(await queue.size()).toBe(0);
  });
});

describe("self-destruct with the Redis queue", () => {
  it("deletes a message sent before a restart, by the instance that comes up after it", async () => {
    const clock = createFakeClock();
    const before = await instance({ redisPrefix: "restart:", clock });
    const receipt = await before.channel.send(message("9001", 5), "d1");
    // The first instance goes away without deleting anything.
    await before.poller.stop();
    await before.topology?.close();

    const after = await instance({ redisPrefix: "restart:", clock });
    clock.advance(5000);
    expect(await after.poller.runOnce()).toBe(1);
    expect(after.outcomes).toEqual([
      {
        kind: "deleted",
        item: { chatId: "9001", messageId: messageIdOf(receipt), deliveryId: "d1" },
      },
    ]);
    expect(fake.liveMessages("9001")).toEqual([]);
  });

  it("lets two instances sharing one Redis delete each message exactly once", async () => {
    const a = await instance({ redisPrefix: "two:", intervalMs: 5, channelLagMs: 990 });
    const b = await instance({ redisPrefix: "two:", intervalMs: 5, channelLagMs: 990 });
    const count = 30;
    const sent: number[] = [];
    for (let i = 0; i < count; i++) {
      // Half the messages are sent by each instance.
      const from = i % 2 === 0 ? a : b;
      const receipt = await from.channel.send(message(String(9100 + i), 1), `d${i}`);
      sent.push(messageIdOf(receipt));
    }
    a.poller.start();
    b.poller.start();
    await fake.waitForCalls("deleteMessage", count);
    await Promise.all([a.poller.stop(), b.poller.stop()]);
    // Both pollers stopped: nothing is left for either, and nothing was deleted twice.
    expect(await a.poller.runOnce()).toBe(0);
    expect(await b.poller.runOnce()).toBe(0);

    const deleted = fake.callsTo("deleteMessage").map((c) => Number(c.body.message_id));
    expect(deleted.sort()).toEqual([...sent].sort());
    expect([...a.outcomes, ...b.outcomes].every((o) => o.kind === "deleted")).toBe(true);
    expect(a.outcomes.length + b.outcomes.length).toBe(count);
    expect(await a.queue.size()).toBe(0);
  });

  it("takes over an item whose claimer crashed, once the lease is over", async () => {
    const clock = createFakeClock();
    const a = await instance({ redisPrefix: "crash:", clock, leaseMs: 1000 });
    const b = await instance({ redisPrefix: "crash:", clock, leaseMs: 1000 });
    await a.channel.send(message("9200", 5), "d1");
    clock.advance(5000);
    // a claims the item and dies before deleting it.
    expect(await a.queue.claimDue(clock.now(), 10)).toHaveLength(1);
    expect(await b.poller.runOnce()).toBe(0);
    clock.advance(1000);
    expect(await b.poller.runOnce()).toBe(1);
    expect(fake.callsTo("deleteMessage")).toHaveLength(1);
    expect(fake.liveMessages("9200")).toEqual([]);
  });
});

/** The Telegram message id in a receipt's "<chat id>:<message id>". */
function messageIdOf(receipt: unknown): number {
  return Number((receipt as SendReceipt | undefined)?.providerMessageId.split(":")[1]);
}
