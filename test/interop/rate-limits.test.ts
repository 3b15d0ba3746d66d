import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { callJson, errorReason, retryDelaySeconds } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { startTestServer } from "../support/test-server.js";

const otp = "otp.v1.OtpService";
let redis: RedisInstance;

beforeAll(async () => {
  redis = await startRedis();
});
afterAll(async () => {
  await redis.stop();
});

const stores = {
  memory: () => ({}),
  redis: () => ({ REDIS_URL: redis.url, OTP_HMAC_SECRET: "r".repeat(40) }),
};

for (const [storeName, storeEnv] of Object.entries(stores)) {
  describe(`rate limits on the ${storeName} store`, () => {
    const servers: RunningServer[] = [];
    let prefix = 0;
    const start = async (env: Record<string, string>) => {
      const server = await startTestServer({
        ...storeEnv(),
        REDIS_KEY_PREFIX: `rl${++prefix}-${Date.now()}:`,
        ...env,
      });
      servers.push(server);
      return server;
    };
    afterAll(async () => {
      await Promise.all(servers.map((s) => s.close()));
    });

    it("refuses the Generate over the per-IP limit with resource_exhausted and a retry delay", async () => {
      const server = await start({ RATE_LIMIT_GENERATE_PER_IP: "3/1m" });
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await callJson(server.url, `${otp}/Generate`, {})).status);
      }
      expect(statuses).toEqual([200, 200, 200]);
      // X-Forwarded-For is ignored when no proxy is trusted: it cannot dodge the limit.
      const refused = await callJson(
        server.url,
        `${otp}/Generate`,
        {},
        { "x-forwarded-for": "198.51.100.7" },
      );
      expect(refused.status).toBe(429);
      expect([refused.body.code, errorReason(refused.body)]).toEqual([
        "resource_exhausted",
        "RATE_LIMITED",
      ]);
      const delay = retryDelaySeconds(refused.body) ?? 0;
      expect(delay).toBeGreaterThanOrEqual(1);
      expect(delay).toBeLessThanOrEqual(60);
    });

    it("counts each forwarded client apart behind a trusted proxy", async () => {
      const server = await start({
        RATE_LIMIT_GENERATE_PER_IP: "1/1m",
        TRUSTED_PROXIES: "loopback",
      });
      const as = (ip: string) =>
        callJson(server.url, `${otp}/Generate`, {}, { "x-forwarded-for": ip });
      expect((await as("203.0.113.1")).status).toBe(200);
      expect((await as("203.0.113.2")).status).toBe(200);
      expect((await as("203.0.113.1")).status).toBe(429);
    });

    it("counts IPv6 callers in one /64 against one budget, and another /64 apart", async () => {
      const server = await start({
        RATE_LIMIT_GENERATE_PER_IP: "2/1m",
        TRUSTED_PROXIES: "loopback",
      });
      const as = (ip: string) =>
        callJson(server.url, `${otp}/Generate`, {}, { "x-forwarded-for": ip });
      expect((await as("2001:db8:0:1::1")).status).toBe(200);
      // Another address in the same /64, spelled differently.
      expect((await as("2001:0db8:0000:0001:ffff:0:0:2")).status).toBe(200);
      const refused = await as("2001:db8:0:1:abcd::3");
      expect([refused.status, errorReason(refused.body)]).toEqual([429, "RATE_LIMITED"]);
      // The neighbouring /64 has a budget of its own.
      expect((await as("2001:db8:0:2::1")).status).toBe(200);
      // An IPv4-mapped IPv6 address is its IPv4 address.
      expect((await as("203.0.113.9")).status).toBe(200);
      expect((await as("::ffff:203.0.113.9")).status).toBe(200);
      expect((await as("203.0.113.9")).status).toBe(429);
    });

    it("counts IPv6 callers by the configured prefix", async () => {
      const server = await start({
        RATE_LIMIT_GENERATE_PER_IP: "1/1m",
        TRUSTED_PROXIES: "loopback",
        RATE_LIMIT_IPV6_PREFIX: "128",
      });
      const as = (ip: string) =>
        callJson(server.url, `${otp}/Generate`, {}, { "x-forwarded-for": ip });
      expect((await as("2001:db8:0:1::1")).status).toBe(200);
      expect((await as("2001:db8:0:1::2")).status).toBe(200);
      expect((await as("2001:db8:0:1::1")).status).toBe(429);
    });

    it("limits Verify calls per challenge, refusing unknown and known ids alike", async () => {
      const server = await start({ RATE_LIMIT_VERIFY_PER_CHALLENGE: "2/1m" });
      const { body } = await callJson(server.url, `${otp}/Generate`, { maxAttempts: 10 });
      const unknown = crypto.randomUUID();
      const replies = [];
      for (const id of [body.id, unknown]) {
        for (let i = 0; i < 3; i++) {
          replies.push(await callJson(server.url, `${otp}/Verify`, { id, code: "000000" }));
        }
      }
      expect(replies.map((r) => r.body.code ?? "ok")).toEqual([
        "ok",
        "ok",
        "resource_exhausted",
        "not_found",
        "not_found",
        "resource_exhausted",
      ]);
      // The refused call did not cost an attempt.
      const got = await callJson(server.url, `${otp}/GetChallenge`, { id: body.id });
      expect((got.body.challenge as { attemptsRemaining: number }).attemptsRemaining).toBe(8);
    });

    // One mailbox, one budget: with 5 sends per hour, five spellings of one
    // recipient use it up and the sixth is refused.
    const spellings = {
      "an email address (plus tags, case, a trailing dot)": {
        channel: "CHANNEL_EMAIL",
        sends: [
          "victim@example.com",
          "victim+1@example.com",
          "victim+2@example.com",
          "victim@EXAMPLE.com.",
          "Victim@Example.com",
        ],
        sixth: "victim+3@example.com",
      },
      "a Gmail address (dots, googlemail.com)": {
        channel: "CHANNEL_EMAIL",
        sends: [
          "victim@gmail.com",
          "vic.tim@gmail.com",
          "v.i.c.t.i.m+x@gmail.com",
          "victim@googlemail.com",
          "Victim@GMAIL.com.",
        ],
        sixth: "vic.tim+y@googlemail.com",
      },
      "a phone number (E.164 and formatted)": {
        channel: "CHANNEL_SMS",
        sends: [
          "+14155550123",
          "+1 415 555 0123",
          "+1 (415) 555-0123",
          "+1-415-555-0123",
          " +14155550123 ",
        ],
        sixth: "+1.415.555.0123",
      },
    };
    for (const [what, { channel, sends, sixth }] of Object.entries(spellings)) {
      it(`counts every spelling of ${what} against one budget`, async () => {
        const server = await start({ RATE_LIMIT_SENDS_PER_RECIPIENT: "5/1h" });
        for (const [i, recipient] of sends.entries()) {
          // Send and Generate share the budget; alternate between them.
          const ok =
            i % 2 === 0
              ? await callJson(server.url, "otp.v1.DeliveryService/Send", {
                  channel,
                  recipient,
                  text: "hello",
                })
              : await callJson(server.url, `${otp}/Generate`, {
                  deliveryTargets: [{ channel, recipient }],
                });
          expect([recipient, ok.status]).toEqual([recipient, 200]);
        }
        for (const path of ["otp.v1.DeliveryService/Send", `${otp}/Generate`]) {
          const refused = await callJson(
            server.url,
            path,
            path.endsWith("Send")
              ? { channel, recipient: sixth, text: "hello" }
              : { deliveryTargets: [{ channel, recipient: sixth }] },
          );
          expect([path, refused.body.code, errorReason(refused.body)]).toEqual([
            path,
            "resource_exhausted",
            "RATE_LIMITED",
          ]);
        }
      });
    }

    it("sends to the address as given, though it counts it as its mailbox", async () => {
      const server = await start({ RATE_LIMIT_SENDS_PER_RECIPIENT: "5/1h" });
      const sent = await callJson(server.url, "otp.v1.DeliveryService/Send", {
        channel: "CHANNEL_EMAIL",
        recipient: "victim+news@EXAMPLE.com",
        text: "hello",
      });
      expect(sent.status).toBe(200);
      const listed = await callJson(server.url, "otp.v1.DeliveryService/ListOutbox", {
        recipient: "victim+news@EXAMPLE.com",
      });
      expect((listed.body.messages as { recipient: string }[]).map((m) => m.recipient)).toEqual([
        "victim+news@EXAMPLE.com",
      ]);
    });

    it("caps sends per recipient and falls back to the next target when one is over quota", async () => {
      const server = await start({ RATE_LIMIT_SENDS_PER_RECIPIENT: "2/1h" });
      const target = { channel: "CHANNEL_SMS", recipient: "+14155550123" };
      for (let i = 0; i < 2; i++) {
        const ok = await callJson(server.url, `${otp}/Generate`, { deliveryTargets: [target] });
        expect(ok.status).toBe(200);
      }
      const refused = await callJson(server.url, `${otp}/Generate`, { deliveryTargets: [target] });
      expect([refused.body.code, errorReason(refused.body)]).toEqual([
        "resource_exhausted",
        "RATE_LIMITED",
      ]);
      expect(retryDelaySeconds(refused.body)).toBeGreaterThan(3000);

      const fallback = await callJson(server.url, `${otp}/Generate`, {
        deliveryTargets: [target, { channel: "CHANNEL_EMAIL", recipient: "someone@example.com" }],
      });
      expect(fallback.status).toBe(200);
      expect(
        (fallback.body.deliveryAttempts as { status: string; errorReason?: string }[]).map((a) => [
          a.status,
          a.errorReason ?? "",
        ]),
      ).toEqual([
        ["DELIVERY_ATTEMPT_STATUS_FAILED", "RATE_LIMITED"],
        ["DELIVERY_ATTEMPT_STATUS_ACCEPTED", ""],
      ]);
    });
  });
}

describe("limits shared by instances on one Redis", () => {
  it("counts calls to two service instances against one budget", async () => {
    const env = {
      REDIS_URL: "",
      OTP_HMAC_SECRET: "s".repeat(40),
      REDIS_KEY_PREFIX: `shared-${Date.now()}:`,
      RATE_LIMIT_GENERATE_PER_IP: "3/1m",
    };
    env.REDIS_URL = redis.url;
    const a = await startTestServer(env);
    const b = await startTestServer(env);
    try {
      const statuses = [];
      for (const server of [a, b, a, b]) {
        statuses.push((await callJson(server.url, `${otp}/Generate`, {})).status);
      }
      expect(statuses).toEqual([200, 200, 200, 429]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
