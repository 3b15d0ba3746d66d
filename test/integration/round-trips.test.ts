import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { startServer } from "../../src/app.js";
import { loadConfig } from "../../src/config/index.js";
import { createLogger } from "../../src/telemetry/logger.js";
import { startTelegramFake } from "../fakes/telegram-fake.js";
import { callJson } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";

/**
 * Counts sequential round trips to Redis over every connection of a service.
 * A round starts when the service sends bytes after Redis has answered
 * anything since the last round started: commands sent together (a pipeline,
 * scripts sent in parallel to two shards, an un-awaited command sent
 * alongside) share a round; a command that had to wait for an answer starts
 * a new one. So the rounds of one call on its own are its sequential trips.
 */
interface RoundCounter {
  rounds: number;
  heard: boolean;
}

interface CountingProxy {
  url: string;
  close(): void;
}

async function startProxy(target: RedisInstance, counter: RoundCounter): Promise<CountingProxy> {
  const sockets = new Set<Socket>();
  const server = createServer({ noDelay: true }, (client) => {
    const upstream = connect({ port: target.port, host: "127.0.0.1", noDelay: true });
    sockets.add(client);
    sockets.add(upstream);
    client.on("data", (chunk: Buffer) => {
      if (counter.heard) {
        counter.rounds += 1;
        counter.heard = false;
      }
      upstream.write(chunk);
    });
    upstream.on("data", (chunk: Buffer) => {
      counter.heard = true;
      client.write(chunk);
    });
    const end = () => {
      for (const s of [client, upstream]) {
        s.destroy();
        sockets.delete(s);
      }
    };
    for (const s of [client, upstream]) {
      s.on("close", end);
      s.on("error", end);
    }
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no proxy address");
  return {
    url: `redis://127.0.0.1:${address.port}`,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

let first: RedisInstance;
let second: RedisInstance;

beforeAll(async () => {
  [first, second] = await Promise.all([startRedis(), startRedis()]);
}, 30_000);

afterAll(async () => {
  await Promise.all([first?.stop(), second?.stop()]);
});

/**
 * A production service (every default limit, quota and usage counter on,
 * calls made with a secret API key) whose Redis traffic goes through
 * counting proxies; `layout` names the Redis environment over the proxies.
 */
async function startCounted(
  layout: (urls: string[]) => Record<string, string>,
  overrides: { activityFlushMs?: number } = {},
  extraEnv: Record<string, string> = {},
) {
  const counter: RoundCounter = { rounds: 0, heard: true };
  const proxies = await Promise.all([startProxy(first, counter), startProxy(second, counter)]);
  const env = { ...productionEnv(), PORT: "0", HOST: "127.0.0.1", SHUTDOWN_GRACE_SECONDS: "1" };
  const server: RunningServer = await startServer(
    loadConfig({ ...env, ...extraEnv, ...layout(proxies.map((p) => p.url)) }),
    // Not the leader: no background polling shares the proxies with the calls.
    { logger: createLogger("silent"), leader: false, ...overrides },
  );
  const admin = { authorization: `Bearer ${testAdminToken}` };
  const tenant = await callJson(
    server.url,
    "otp.v1.AdminService/CreateTenant",
    { name: "rt" },
    admin,
  );
  const tenantId = (tenant.body.tenant as { id: string }).id;
  // A bucket for rate-limit keys, which Verify by recipient is measured with.
  await callJson(
    server.url,
    "otp.v1.AdminService/UpdateTenantSettings",
    { tenantId, settings: { rateLimitBuckets: [{ name: "user", limit: "1000/1m" }] } },
    admin,
  );
  const key = await callJson(
    server.url,
    "otp.v1.AdminService/CreateApiKey",
    { tenantId, kind: "API_KEY_KIND_SECRET", scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY"] },
    admin,
  );
  const auth = { authorization: `Bearer ${key.body.secret as string}` };
  const call = (procedure: string, body: unknown) => callJson(server.url, procedure, body, auth);

  // The fewest rounds one call made, over a few tries: anything else the
  // process sends meanwhile can only add rounds, never remove them.
  const roundsOf = async (make: () => Promise<{ status: number }>) => {
    let fewest = Number.POSITIVE_INFINITY;
    for (let i = 0; i < 4; i++) {
      const before = counter.rounds;
      const reply = await make();
      expect(reply.status).toBe(200);
      fewest = Math.min(fewest, counter.rounds - before);
    }
    return fewest;
  };
  const generate = () => call("otp.v1.OtpService/Generate", { maxAttempts: 60 });
  // Warm up: the key into the cache, the scripts into Redis.
  const warm = await generate();
  const id = warm.body.id as string;
  const code = warm.body.code as string;
  const wrong = [...code].map((c) => (c === "0" ? "1" : "0")).join("");
  await call("otp.v1.OtpService/Verify", { id, code: wrong });

  return {
    call,
    roundsOf,
    generateRounds: () => roundsOf(generate),
    verifyRounds: () => roundsOf(() => call("otp.v1.OtpService/Verify", { id, code: wrong })),
    async close() {
      await server.close();
      for (const p of proxies) p.close();
    },
  };
}

describe("sequential Redis round trips per call, production with an API key and default limits", () => {
  it("stays one for Generate and Verify with the console's activity counters on, which count every call", async () => {
    // Counters are written by a timer, never by the call: a long interval
    // keeps them in memory until close, which writes them.
    const service = await startCounted(([url]) => ({ REDIS_URL: url as string }), {
      activityFlushMs: 60_000,
    });
    try {
      expect(await service.generateRounds()).toBe(1);
      expect(await service.verifyRounds()).toBe(1);
    } finally {
      await service.close();
    }
    const client = new Redis(first.url);
    const totals = new Map<string, number>();
    for (const key of await client.keys("*activity:*:h")) {
      for (const [field, n] of Object.entries(await client.hgetall(key))) {
        const kind = field.split("|")[0] as string;
        totals.set(kind, (totals.get(kind) ?? 0) + Number(n));
      }
    }
    await client.flushall();
    await client.quit();
    // The warm-up call and four measured ones of each.
    expect(totals.get("g")).toBe(5);
    expect(totals.get("v")).toBe(5);
  });

  it("is one for Generate and one for Verify on a single Redis", async () => {
    const service = await startCounted(([url]) => ({ REDIS_URL: url as string }));
    try {
      expect(await service.generateRounds()).toBe(1);
      expect(await service.verifyRounds()).toBe(1);
      // A rate-limit key is one more counter in the same script.
      const keyed = () =>
        service.call("otp.v1.OtpService/Generate", {
          rateLimitKeys: [{ bucket: "user", key: "203.0.113.9" }],
        });
      expect(await service.roundsOf(keyed)).toBe(1);
    } finally {
      await service.close();
    }
  });

  it("is at most two on URL shards", async () => {
    const service = await startCounted((urls) => ({ REDIS_SHARD_URLS: urls.join(",") }));
    try {
      expect(await service.generateRounds()).toBeLessThanOrEqual(2);
      // A secret key has no per-IP limit: nothing of Verify lives apart from its challenge.
      expect(await service.verifyRounds()).toBe(1);
    } finally {
      await service.close();
    }
  });

  it("is at most two on DB-index shards", async () => {
    const service = await startCounted(([url]) => ({
      REDIS_URL: url as string,
      REDIS_DB_RANGE: "2-5",
    }));
    try {
      expect(await service.generateRounds()).toBeLessThanOrEqual(2);
      // A secret key has no per-IP limit: nothing of Verify lives apart from its challenge.
      expect(await service.verifyRounds()).toBe(1);
    } finally {
      await service.close();
    }
  });

  for (const [where, layout] of [
    ["a single Redis", ([url]: string[]) => ({ REDIS_URL: url as string })],
    ["URL shards", (urls: string[]) => ({ REDIS_SHARD_URLS: urls.join(",") })],
  ] as const) {
    it(`is two for Verify by recipient with a rate-limit key on ${where}; one by id on a single Redis`, async () => {
      const telegram = await startTelegramFake();
      const service = await startCounted(
        layout,
        {},
        {
          TELEGRAM_BOT_TOKEN: telegram.token,
          TELEGRAM_API_ROOT: telegram.apiRoot,
          TELEGRAM_UPDATES: "off",
        },
      );
      try {
        const target = { channel: "CHANNEL_TELEGRAM", recipient: "4242" };
        const issued = await service.call("otp.v1.OtpService/Generate", {
          maxAttempts: 60,
          deliveryTargets: [target],
        });
        expect(issued.status).toBe(200);
        const sent = String(telegram.callsTo("sendMessage").at(-1)?.body.text ?? "");
        const code = /\b(\d{6})\b/.exec(sent)?.[1] ?? "";
        const wrong = [...code].map((c) => (c === "0" ? "1" : "0")).join("");
        // The index read and the key's limit share the first trip; the verify step is the second.
        const byRecipient = () =>
          service.call("otp.v1.OtpService/Verify", {
            ...target,
            code: wrong,
            rateLimitKeys: [{ bucket: "user", key: "203.0.113.9" }],
          });
        expect(await service.roundsOf(byRecipient)).toBe(2);
        if (where === "a single Redis") {
          const byId = () =>
            service.call("otp.v1.OtpService/Verify", { id: issued.body.id, code: wrong });
          expect(await service.roundsOf(byId)).toBe(1);
        }
      } finally {
        await service.close();
        await telegram.close();
      }
    });
  }
});
