import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createCodeHasher } from "../../src/otp/code-hasher.js";
import { createRedisTelegramLinks } from "../../src/store/redis/telegram-links.js";
import { createRedisTopology, type RedisTopology } from "../../src/store/redis/topology.js";
import { describeTelegramLinksContract } from "../contract/telegram-links-contract.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";

const timeouts = { commandTimeoutMs: 2000, connectTimeoutMs: 5000 };
let single: RedisInstance;
let second: RedisInstance;
let topology: RedisTopology;
let sharded: RedisTopology;
let prefixes = 0;

beforeAll(async () => {
  [single, second] = await Promise.all([startRedis(), startRedis()]);
  topology = createRedisTopology({ kind: "single", url: single.url }, timeouts);
  sharded = createRedisTopology({ kind: "urls", urls: [single.url, second.url] }, timeouts);
  await Promise.all([topology.ready(), sharded.ready()]);
}, 30_000);

afterAll(async () => {
  await Promise.all([topology?.close(), sharded?.close()]);
  await Promise.all([single?.stop(), second?.stop()]);
});

describeTelegramLinksContract("Redis, one server", async () =>
  createRedisTelegramLinks({ topology, keyPrefix: `tl${++prefixes}:` }),
);
describeTelegramLinksContract("Redis, URL shards", async () =>
  createRedisTelegramLinks({ topology: sharded, keyPrefix: `tl${++prefixes}:` }),
);

describe("Redis TelegramLinks keys", () => {
  it("writes every key with an expiry and never stores a token in clear", async () => {
    const links = createRedisTelegramLinks({
      topology,
      keyPrefix: "tlkeys:",
      linkTtlMs: 3_600_000,
    });
    await links.link("+34612345678", "111");
    await links.linkAccount("acct", "222");
    const token = await links.createLinkToken("acct", 60_000);
    const client = topology.clients[0];
    if (client === undefined) throw new Error("no client");
    const keys = await client.keys("tlkeys:*");
    expect(keys).toHaveLength(3);
    for (const key of keys) {
      expect(key).not.toContain(token);
      expect(await client.pttl(key)).toBeGreaterThan(0);
    }
  });

  it("spreads keys over the shards by their own key", async () => {
    const links = createRedisTelegramLinks({ topology: sharded, keyPrefix: "tlspread:" });
    for (let i = 0; i < 20; i++) await links.link(`+3461234${String(i).padStart(4, "0")}`, `${i}`);
    const counts = await Promise.all(sharded.clients.map((c) => c.keys("tlspread:*")));
    expect(counts.every((keys) => keys.length > 0)).toBe(true);
    expect(counts.reduce((n, keys) => n + keys.length, 0)).toBe(20);
  });

  it("keeps phone numbers out of key names and finds links made before a secret rotation", async () => {
    const before = createCodeHasher(["a".repeat(32)]);
    const after = createCodeHasher(["b".repeat(32), "a".repeat(32)]);
    const linksWith = (hasher: typeof before) =>
      createRedisTelegramLinks({
        topology,
        keyPrefix: "tlhashed:",
        phoneKeyNames: (phone) => hasher.digests("telegram-phone", phone),
      });
    await linksWith(before).link("+34612345678", "111");
    const client = topology.clients[0];
    if (client === undefined) throw new Error("no client");
    const keys = await client.keys("tlhashed:*");
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain("612345678");
    expect(await linksWith(after).chatFor("+34612345678")).toBe("111");
    await linksWith(after).link("+34612345678", "222");
    expect(await linksWith(after).chatFor("+34612345678")).toBe("222");
  });
});
