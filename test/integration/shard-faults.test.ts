import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { shardIndexForUuid } from "../../src/store/redis/shard-index.js";
import { callJson, errorReason } from "../support/connect-json.js";
import { readyz, until } from "../support/readiness.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { startTestServer } from "../support/test-server.js";

// Append-only files, so a killed shard comes back with what it acknowledged.
const persist = ["--appendonly", "yes", "--appendfsync", "always"];
const otp = "otp.v1.OtpService";
let shards: RedisInstance[];

beforeAll(async () => {
  shards = await Promise.all([startRedis(persist), startRedis(persist)]);
});
afterAll(async () => {
  await Promise.all(shards.map((s) => s.stop()));
});

describe("one URL shard killed under a running service", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer({
      REDIS_SHARD_URLS: shards.map((s) => s.url).join(","),
      OTP_HMAC_SECRET: "s".repeat(40),
      REDIS_COMMAND_TIMEOUT_MS: "1000",
      RATE_LIMIT_GENERATE_PER_IP: "1000/1m",
      RATE_LIMIT_VERIFY_PER_IP: "1000/1m",
      RATE_LIMIT_VERIFY_PER_CHALLENGE: "20/1m",
    });
  });
  afterAll(async () => {
    await server?.close();
  });

  it("is not ready while the shard is down, serves the other shard's challenges, and recovers", async () => {
    const made = await Promise.all(
      Array.from({ length: 40 }, () => callJson(server.url, `${otp}/Generate`, {})),
    );
    const challenges = made.map((r) => ({ id: r.body.id as string, code: r.body.code as string }));
    const down = challenges.filter((c) => shardIndexForUuid(c.id, 2) === 1);
    const up = challenges.filter((c) => shardIndexForUuid(c.id, 2) === 0);
    expect(down.length).toBeGreaterThan(0);
    expect(up.length).toBeGreaterThan(0);
    expect(await readyz(server.url)).toBe(200);

    await shards[1]?.kill();
    await until(async () => (await readyz(server.url)) === 503, "readyz to fail");
    // Whichever shard holds the caller's per-IP counters, the live shard's challenges verify.
    const [served, refused] = await Promise.all([
      Promise.all(up.map((c) => callJson(server.url, `${otp}/Verify`, c))),
      Promise.all(down.map((c) => callJson(server.url, `${otp}/Verify`, c))),
    ]);
    for (const reply of served)
      expect(reply.body).toMatchObject({ result: "VERIFY_RESULT_VERIFIED" });
    for (const reply of refused) {
      expect([reply.body.code, errorReason(reply.body)]).toEqual([
        "unavailable",
        "STORE_UNAVAILABLE",
      ]);
    }
    expect(await readyz(server.url)).toBe(503);

    await shards[1]?.restart();
    await until(async () => (await readyz(server.url)) === 200, "readyz to recover");
    const after = await Promise.all(down.map((c) => callJson(server.url, `${otp}/Verify`, c)));
    for (const reply of after) {
      expect(reply.body).toMatchObject({ result: "VERIFY_RESULT_VERIFIED", attemptsRemaining: 4 });
    }
  }, 30_000);
});
