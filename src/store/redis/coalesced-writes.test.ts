import type { Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisInstance, startRedis } from "../../../test/support/redis-harness.js";
import { coalesceWrites } from "./coalesced-writes.js";

let redis: RedisInstance;
let probe: Redis;
beforeAll(async () => {
  redis = await startRedis();
  probe = new Redis(redis.url);
});
afterAll(async () => {
  probe.disconnect();
  await redis.stop();
});

async function readsProcessed(): Promise<number> {
  const info = await probe.info("stats");
  return Number(/total_reads_processed:(\d+)/.exec(info)?.[1]);
}

// Twenty commands issued from twenty separate callbacks of one loop turn, as
// twenty HTTP connections' calls would be; how many reads Redis needed for them.
async function readsForTwentyCallbacks(client: Redis): Promise<number> {
  const before = await readsProcessed();
  const replies = await Promise.all(
    Array.from(
      { length: 20 },
      (_, i) =>
        new Promise<string | null>((resolve, reject) =>
          setImmediate(() => client.set(`coalesce:${i}`, String(i)).then(resolve, reject)),
        ),
    ),
  );
  expect(replies).toEqual(Array(20).fill("OK"));
  // The probe's own INFO is one read more.
  return (await readsProcessed()) - before - 1;
}

// Counts the writes the client's socket makes to the kernel from now on: one
// per `_write`, one per `_writev` however many commands it carries. Counted
// on the client, so the figure does not depend on when Redis gets a core.
function countSocketWrites(client: Redis): () => number {
  const stream = (client as unknown as { stream: Socket }).stream;
  let writes = 0;
  const write = stream._write.bind(stream);
  stream._write = (chunk, encoding, callback) => {
    writes += 1;
    write(chunk, encoding, callback);
  };
  const writev = stream._writev?.bind(stream);
  if (writev !== undefined) {
    stream._writev = (chunks, callback) => {
      writes += 1;
      writev(chunks, callback);
    };
  }
  return () => writes;
}

describe("coalesceWrites", () => {
  it("sends the commands written during one loop turn to Redis together", async () => {
    const plain = new Redis(redis.url);
    const coalesced = new Redis(redis.url);
    coalesceWrites(coalesced);
    try {
      await Promise.all([plain.ping(), coalesced.ping()]);
      const plainWrites = countSocketWrites(plain);
      const coalescedWrites = countSocketWrites(coalesced);
      // Without coalescing each callback's command is a write of its own.
      await readsForTwentyCallbacks(plain);
      expect(plainWrites()).toBeGreaterThanOrEqual(10);
      // With it they leave in one write, which Redis takes in one read (two at most).
      expect(await readsForTwentyCallbacks(coalesced)).toBeLessThanOrEqual(2);
      expect(coalescedWrites()).toBeLessThanOrEqual(2);
      expect(await coalesced.mget("coalesce:0", "coalesce:19")).toEqual(["0", "19"]);
    } finally {
      plain.disconnect();
      coalesced.disconnect();
    }
  });

  it("keeps doing so on the socket of a reconnection", async () => {
    const client = new Redis(redis.url, { retryStrategy: () => 10 });
    coalesceWrites(client);
    try {
      await client.ping();
      const reconnected = new Promise<void>((resolve) => client.once("ready", () => resolve()));
      await probe.client("KILL", "TYPE", "normal", "SKIPME", "yes");
      await reconnected;
      expect(await readsForTwentyCallbacks(client)).toBeLessThanOrEqual(2);
    } finally {
      client.disconnect();
    }
  });
});
