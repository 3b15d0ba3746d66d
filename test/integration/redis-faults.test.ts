import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { callJson, errorReason } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { startTestServer } from "../support/test-server.js";

// A Redis that writes every change to its append-only file before answering,
// so a kill -9 and a restart keep what it acknowledged, as a production Redis would.
let redis: RedisInstance;
const env = () => ({
  REDIS_URL: redis.url,
  OTP_HMAC_SECRET: "f".repeat(40),
  REDIS_COMMAND_TIMEOUT_MS: "500",
});
const otp = "otp.v1.OtpService";

beforeAll(async () => {
  redis = await startRedis(["--appendonly", "yes", "--appendfsync", "always"]);
});
afterAll(async () => {
  await redis.stop();
});

async function readyz(url: string): Promise<number> {
  return (await fetch(`${url}/readyz`)).status;
}

async function until(check: () => Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`gave up waiting for ${what}`);
}

describe("Redis outage", () => {
  let server: RunningServer;
  beforeAll(async () => {
    server = await startTestServer(env());
  });
  afterAll(async () => {
    await server.close();
  });

  it("fails calls with unavailable and readiness with 503 while Redis is down, then recovers with nothing lost", async () => {
    const made = await Promise.all(
      Array.from({ length: 5 }, () => callJson(server.url, `${otp}/Generate`, {})),
    );
    const challenges = made.map((r) => r.body as { id: string; code: string });
    expect(await readyz(server.url)).toBe(200);

    await redis.kill();
    await until(async () => (await readyz(server.url)) === 503, "readyz to fail");
    const during = await Promise.all([
      callJson(server.url, `${otp}/Generate`, {}),
      callJson(server.url, `${otp}/Verify`, { id: challenges[0]?.id, code: challenges[0]?.code }),
      callJson(server.url, `${otp}/GetChallenge`, { id: challenges[1]?.id }),
    ]);
    for (const reply of during) {
      expect(reply.body.code).toBe("unavailable");
      expect(errorReason(reply.body)).toBe("STORE_UNAVAILABLE");
      expect(JSON.stringify(reply.body)).not.toMatch(/ECONNREFUSED|127\.0\.0\.1|redis:/);
    }

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(
      /otp_store_errors_total\{[^}]*operation="otp\.v1\.OtpService\/Generate"[^}]*\} 1/,
    );

    await redis.restart();
    await until(async () => (await readyz(server.url)) === 200, "readyz to recover");
    for (const { id, code } of challenges) {
      const verified = await callJson(server.url, `${otp}/Verify`, { id, code });
      expect(verified.body.result).toBe("VERIFY_RESULT_VERIFIED");
    }
  });
});

describe("service restart", () => {
  it("loses no challenge: a second process verifies what the first one issued", async () => {
    const first = await startTestServer(env());
    const { body } = await callJson(first.url, `${otp}/Generate`, { ttlSeconds: 300 });
    const wrong = body.code === "000000" ? "111111" : "000000";
    await callJson(first.url, `${otp}/Verify`, { id: body.id, code: wrong });
    await first.close();

    const second = await startTestServer(env());
    try {
      const got = await callJson(second.url, `${otp}/GetChallenge`, { id: body.id });
      expect(got.body.challenge).toMatchObject({ attemptsRemaining: 4 });
      const verified = await callJson(second.url, `${otp}/Verify`, {
        id: body.id,
        code: body.code,
      });
      expect(verified.body.result).toBe("VERIFY_RESULT_VERIFIED");
    } finally {
      await second.close();
    }
  });

  it("still verifies a challenge made before the HMAC secret was rotated", async () => {
    const before = await startTestServer(env());
    const { body } = await callJson(before.url, `${otp}/Generate`, {});
    await before.close();
    const after = await startTestServer({
      ...env(),
      OTP_HMAC_SECRET: "n".repeat(40),
      OTP_HMAC_PREVIOUS_SECRETS: "f".repeat(40),
    });
    try {
      const verified = await callJson(after.url, `${otp}/Verify`, { id: body.id, code: body.code });
      expect(verified.body.result).toBe("VERIFY_RESULT_VERIFIED");
    } finally {
      await after.close();
    }
  });
});
