import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTelegramFake, type TelegramFake } from "../fakes/telegram-fake.js";
import { callJson } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { run, spawnServer, startArgs } from "../support/spawn-server.js";
import { startProdFlags } from "../support/start-prod.js";

let redis: RedisInstance;
let telegram: TelegramFake;
beforeAll(async () => {
  [redis, telegram] = await Promise.all([startRedis(), startTelegramFake()]);
});
afterAll(async () => {
  await Promise.all([redis.stop(), telegram.close()]);
});

async function children(pid: number): Promise<number[]> {
  // Only the workers: tsx may also have started its esbuild service as a child.
  const out = await run("pgrep", ["-P", String(pid), "-f", "src/main.ts"]);
  return out.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map(Number);
}

describe("WORKERS", () => {
  it("runs that many processes on one port, sharing state through Redis, and drains them all on SIGTERM", async () => {
    // The production command line's V8 memory flags (package.json start:prod) reach every worker.
    const memoryFlags = startProdFlags();
    expect(memoryFlags).toContain("--heap-growing-percent=50");
    const server = await spawnServer(
      {
        WORKERS: "2",
        REDIS_URL: redis.url,
        OTP_HMAC_SECRET: "w".repeat(40),
        SHUTDOWN_GRACE_SECONDS: "2",
        LOG_LEVEL: "warn",
        TELEGRAM_BOT_TOKEN: telegram.token,
        TELEGRAM_API_ROOT: telegram.apiRoot,
        TELEGRAM_UPDATES: "polling",
      },
      [...memoryFlags, ...startArgs],
    );
    const pid = server.child.pid ?? 0;
    expect(server.stdout()).toMatch(/workers\s+2 processes/);
    const workers = await children(pid);
    expect(workers).toHaveLength(2);
    for (const worker of workers) {
      const argv = readFileSync(`/proc/${worker}/cmdline`, "utf8").split("\0");
      expect(argv).toEqual(expect.arrayContaining(memoryFlags));
    }

    // Challenges made through one worker verify through any other: new
    // connections are spread over the workers, and all of them succeed.
    const made = await Promise.all(
      Array.from({ length: 10 }, () => callJson(server.url, "otp.v1.OtpService/Generate", {})),
    );
    const verified = await Promise.all(
      made.map((m) =>
        callJson(server.url, "otp.v1.OtpService/Verify", { id: m.body.id, code: m.body.code }),
      ),
    );
    expect(verified.map((v) => v.body.result)).toEqual(Array(10).fill("VERIFY_RESULT_VERIFIED"));

    // Telegram allows one poller per bot: only worker 1 polls (each poller
    // removes the webhook once as it starts).
    await telegram.waitForCalls("getUpdates", 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(telegram.callsTo("deleteWebhook")).toHaveLength(1);

    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(await children(pid)).toEqual([]);
  });

  it("refuses more than one worker with the in-memory store, saying why", async () => {
    const failed = await spawnServer({ WORKERS: "2" }).then(
      () => "started",
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/exited with 78/);
    expect(failed).toContain("WORKERS");
  });
});
