import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRecipientVault } from "../../src/core/recipient-vault.js";
import { createRedisStore } from "../../src/store/redis/redis-store.js";
import { shardIndexForUuid } from "../../src/store/redis/shard-index.js";
import { createRedisTopology, type RedisLayout } from "../../src/store/redis/topology.js";
import type { Store } from "../../src/store/store.js";
import { describeRecipientIndexContract } from "../contract/recipient-index-contract.js";
import { describeStoreContract } from "../contract/store-contract.js";
import {
  type RedisCluster,
  type RedisInstance,
  startRedis,
  startRedisCluster,
} from "../support/redis-harness.js";
import { sampleChallenge } from "../support/sample-challenge.js";

const timeouts = { commandTimeoutMs: 2000, connectTimeoutMs: 5000 };
let single: RedisInstance;
let second: RedisInstance;
let cluster: RedisCluster;
let prefixes = 0;
const vault = createRecipientVault(["recipient-vault-secret-for-store-tests-0123456789"]);

beforeAll(async () => {
  [single, second, cluster] = await Promise.all([startRedis(), startRedis(), startRedisCluster()]);
}, 60_000);

afterAll(async () => {
  await Promise.all([single?.stop(), second?.stop(), cluster?.stop()]);
});

/** A store on a fresh key prefix, so each test starts empty. */
async function storeOn(layout: () => RedisLayout, prefix = `t${++prefixes}:`): Promise<Store> {
  const topology = createRedisTopology(layout(), timeouts);
  await topology.ready();
  return createRedisStore({ topology, keyPrefix: prefix, vault });
}

const layouts = {
  "single Redis": () => ({ kind: "single", url: single.url }),
  "DB-index shards 2-5": () => ({ kind: "db-range", url: single.url, first: 2, last: 5 }),
  "URL shards": () => ({ kind: "urls", urls: [single.url, second.url] }),
  "Redis Cluster": () => ({ kind: "cluster", nodes: cluster.nodes }),
} satisfies Record<string, () => RedisLayout>;

for (const [name, layout] of Object.entries(layouts)) {
  describeStoreContract(name, () => storeOn(layout));
  describeRecipientIndexContract(name, () => storeOn(layout));
}

describe("sharding", () => {
  it("places every challenge on the DB the seed formula predicts", async () => {
    const store = await storeOn(layouts["DB-index shards 2-5"], "shard-db:");
    const ids = Array.from({ length: 200 }, () => randomUUID());
    for (const id of ids) await store.createChallenge({ record: sampleChallenge(id, Date.now()) });
    const dbs = await Promise.all(
      [2, 3, 4, 5].map(async (db) => {
        const client = new Redis(single.url, { db });
        const keys = await client.keys("shard-db:challenge:*");
        await client.quit();
        return new Set(keys.map((k) => /\{(.+)\}/.exec(k)?.[1]));
      }),
    );
    for (const id of ids) {
      const expected = (Buffer.from(id.replace(/-/g, ""), "hex").readUInt32BE(12) % 4) + 2;
      expect(dbs[expected - 2]?.has(id)).toBe(true);
    }
    expect(dbs.reduce((n, s) => n + s.size, 0)).toBe(ids.length);
    await store.close();
  });

  it("places every challenge on the server the formula predicts with URL shards", async () => {
    const store = await storeOn(layouts["URL shards"], "shard-url:");
    const ids = Array.from({ length: 100 }, () => randomUUID());
    for (const id of ids) await store.createChallenge({ record: sampleChallenge(id, Date.now()) });
    const servers = [single, second];
    for (const id of ids) {
      const client = new Redis(servers[shardIndexForUuid(id, 2)]?.url ?? "");
      expect(await client.exists(`shard-url:challenge:{${id}}`)).toBe(1);
      await client.quit();
    }
    await store.close();
  });

  it("keeps a counter made with withChallenge on its challenge's shard", async () => {
    const store = await storeOn(layouts["URL shards"], "shard-limit:");
    const ids = Array.from({ length: 20 }, () => randomUUID());
    const limit = { points: 5, windowMs: 60_000 };
    for (const id of ids) await store.consume("verify_challenge", id, limit, { withChallenge: id });
    const servers = [single, second];
    for (const id of ids) {
      const client = new Redis(servers[shardIndexForUuid(id, 2)]?.url ?? "");
      expect(await client.keys(`shard-limit:ratelimit:verify_challenge*${id}*`)).toHaveLength(1);
      await client.quit();
    }
    await store.close();
  });

  it("spreads 10,000 ids over 4 shards evenly, within a few percent", () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i++) {
      const i = shardIndexForUuid(randomUUID(), 4);
      counts[i] = (counts[i] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 2500) / 2500).toBeLessThan(0.06);
  });

  it("computes the seed formula from the UUID's last four bytes", () => {
    expect(shardIndexForUuid("00000000-0000-4000-8000-00000000000a", 4)).toBe(2);
    expect(shardIndexForUuid("00000000-0000-4000-8000-0000ffffffff", 10)).toBe(4294967295 % 10);
  });
});

describe("keys", () => {
  it("namespaces every key under the prefix and never leaves one without expiry", async () => {
    const store = await storeOn(layouts["single Redis"], "ns-check:");
    const now = Date.now();
    const id = randomUUID();
    await store.createChallenge({ record: sampleChallenge(id, now) });
    await store.verify(id, { candidateHmacs: ["nope"], bindingHash: "", nowMs: now });
    await store.replaceCode(id, {
      codeHmac: "new",
      nowMs: now + 1,
      cooldownMs: 0,
      maxSends: 5,
      retentionMs: 1000,
    });
    await store.setDeliveryAttempts(id, [], now);
    await store.cancel(id, now);
    await store.consume("generate_ip", "127.0.0.1", { points: 5, windowMs: 60_000 });
    await store.appendOutbox(
      {
        id: randomUUID(),
        channel: "outbox",
        recipient: "a",
        text: "t",
        challengeId: id,
        createdAtMs: now,
      },
      60_000,
    );
    const client = new Redis(single.url);
    const keys = await client.keys("*");
    const ours = keys.filter((k) => k.startsWith("ns-check:"));
    expect(ours.length).toBeGreaterThanOrEqual(3);
    for (const key of ours) expect(await client.pttl(key)).toBeGreaterThan(0);
    expect(
      keys.filter(
        (k) => !k.startsWith("t") && !k.startsWith("shard-") && !k.startsWith("ns-check:"),
      ),
    ).toEqual([]);
    await client.quit();
    await store.close();
  });

  it("keeps a challenge's keys in one cluster slot", async () => {
    const store = await storeOn(layouts["Redis Cluster"], "slot-check:");
    const id = randomUUID();
    await store.createChallenge({ record: sampleChallenge(id, Date.now()) });
    const outcome = await store.verify(id, {
      candidateHmacs: ["hmac"],
      bindingHash: "",
      nowMs: Date.now(),
    });
    expect(outcome?.outcome).toBe("verified");
    await store.close();
  });
});

describe("counters beside their challenge in a Cluster", () => {
  it("puts a counter made with withChallenge in its challenge's slot", async () => {
    const store = await storeOn(layouts["Redis Cluster"], "slot-limit:");
    const id = randomUUID();
    const limit = { points: 5, windowMs: 60_000 };
    await store.consume("verify_challenge", id, limit, { withChallenge: id });
    const client = new Redis(cluster.nodes[0] as { host: string; port: number });
    const challengeSlot = await client.cluster("KEYSLOT", `slot-limit:challenge:{${id}}`);
    let counterKey: string | undefined;
    for (const node of cluster.nodes) {
      const direct = new Redis(node);
      counterKey ??= (await direct.keys(`slot-limit:ratelimit:verify_challenge*${id}*`))[0];
      await direct.quit();
    }
    expect(counterKey).toBeDefined();
    expect(await client.cluster("KEYSLOT", counterKey as string)).toBe(challengeSlot);
    await client.quit();
    await store.close();
  });
});

describe("concurrency across connections", () => {
  it("allows no more than max_attempts wrong guesses from 10 separate clients at once", async () => {
    const stores = await Promise.all(
      Array.from({ length: 10 }, () => storeOn(layouts["URL shards"], "race:")),
    );
    const id = randomUUID();
    const now = Date.now();
    await stores[0]?.createChallenge({ record: sampleChallenge(id, now) });
    const outcomes = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        (stores[i % 10] as Store).verify(id, {
          candidateHmacs: ["wrong"],
          bindingHash: "",
          nowMs: now,
        }),
      ),
    );
    expect(outcomes.filter((o) => o?.outcome === "invalid_code")).toHaveLength(5);
    const right = await Promise.all(
      stores.map((s) => s.verify(id, { candidateHmacs: ["hmac"], bindingHash: "", nowMs: now })),
    );
    expect(right.every((o) => o?.outcome === "attempts_exhausted")).toBe(true);
    await Promise.all(stores.map((s) => s.close()));
  });

  it("verifies one code once when 20 separate clients present it together", async () => {
    const stores = await Promise.all(
      Array.from({ length: 20 }, () => storeOn(layouts["Redis Cluster"], "race2:")),
    );
    const id = randomUUID();
    const now = Date.now();
    await stores[0]?.createChallenge({ record: sampleChallenge(id, now) });
    const outcomes = await Promise.all(
      stores.map((s) => s.verify(id, { candidateHmacs: ["hmac"], bindingHash: "", nowMs: now })),
    );
    expect(outcomes.filter((o) => o?.outcome === "verified")).toHaveLength(1);
    expect(outcomes.filter((o) => o?.outcome === "already_verified")).toHaveLength(19);
    await Promise.all(stores.map((s) => s.close()));
  });
});

describe("recipients across a secret rotation", () => {
  it("reads targets, outbox entries and provider ids stored under the previous secret", async () => {
    const oldSecret = "old-recipient-secret-0123456789abcdefghij";
    const newSecret = "new-recipient-secret-0123456789abcdefghij";
    const open = async (secrets: string[]) => {
      const topology = createRedisTopology(layouts["URL shards"](), timeouts);
      await topology.ready();
      return createRedisStore({
        topology,
        keyPrefix: "rotation:",
        vault: createRecipientVault(secrets),
      });
    };
    const before = await open([oldSecret]);
    const now = Date.now();
    const id = randomUUID();
    const targets = [
      { channel: "sms" as const, recipient: "+14155552671", selfDestructSeconds: 0 },
    ];
    await before.createChallenge({ record: { ...sampleChallenge(id, now), targets } });
    await before.appendOutbox(
      {
        id: randomUUID(),
        channel: "sms",
        recipient: "+14155552671",
        text: "hello",
        challengeId: id,
        createdAtMs: now,
      },
      60_000,
    );
    const deliveryId = randomUUID();
    await before.createDelivery({
      id: deliveryId,
      channel: "telegram",
      recipientMasked: "7********0",
      challengeId: "",
      createdAtMs: now,
      deleteAtMs: 0,
      providerMessageId: "",
      idempotencyFingerprint: "",
      retainUntilMs: now + 60_000,
      events: [],
    });
    await before.appendDeliveryEvent(
      deliveryId,
      { status: "sent", atMs: now, reason: "", attempt: 1 },
      "7412589630:17",
    );
    await before.close();

    const after = await open([newSecret, oldSecret]);
    expect((await after.getChallenge(id, now))?.targets).toEqual(targets);
    const listed = await after.listOutbox({ recipient: "+14155552671", limit: 10 }, now);
    expect(listed.map((e) => [e.recipient, e.text])).toEqual([["+14155552671", "hello"]]);
    expect(await after.findDeliveryByProviderId("telegram", "7412589630:17")).toBe(deliveryId);
    expect((await after.getDelivery(deliveryId, now))?.providerMessageId).toBe("7412589630:17");
    await after.close();

    // Without the old secret nothing stored under it can be found or opened.
    const forgotten = await open([newSecret]);
    expect(await forgotten.listOutbox({ recipient: "+14155552671", limit: 10 }, now)).toEqual([]);
    expect(await forgotten.findDeliveryByProviderId("telegram", "7412589630:17")).toBeUndefined();
    await forgotten.close();
  });
});
