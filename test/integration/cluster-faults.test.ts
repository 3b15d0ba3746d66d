import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { clusterSlotOf } from "../../src/store/redis/cluster-slot.js";
import { callJson, errorReason, type JsonReply } from "../support/connect-json.js";
import { readyz, until } from "../support/readiness.js";
import { type RedisCluster, startRedisCluster } from "../support/redis-harness.js";
import { startTestServer } from "../support/test-server.js";

// A Cluster of three masters without replicas, as the attack run had. Redis
// keeps serving the slots of live masters when one fails only with
// `cluster-require-full-coverage no` (the README says so); append-only files
// let a killed master come back with what it acknowledged.
const redisOptions = [
  "--cluster-require-full-coverage",
  "no",
  "--appendonly",
  "yes",
  "--appendfsync",
  "always",
];
const otp = "otp.v1.OtpService";
let cluster: RedisCluster;
/** The port of the master serving each slot, read while the cluster is whole. */
let ownerOfSlot: number[];

beforeAll(async () => {
  cluster = await startRedisCluster(redisOptions);
  const first = cluster.nodes[0] as { port: number };
  const client = new Redis({ port: first.port, host: "127.0.0.1", lazyConnect: true });
  await client.connect();
  const ranges = await client.cluster("SLOTS");
  client.disconnect();
  ownerOfSlot = [];
  for (const [from, to, master] of ranges) {
    for (let slot = from; slot <= to; slot++) ownerOfSlot[slot] = master?.[1] as number;
  }
}, 30_000);
afterAll(async () => {
  await cluster?.stop();
});

const ownerOfKey = (key: string) => ownerOfSlot[clusterSlotOf(key)] as number;
// Every key of a challenge carries its id as the hash tag.
const ownerOfChallenge = (id: string) => ownerOfKey(`{${id}}`);

function env(prefix: string): Record<string, string> {
  return {
    REDIS_CLUSTER_NODES: cluster.seeds,
    REDIS_KEY_PREFIX: prefix,
    OTP_HMAC_SECRET: "c".repeat(40),
    REDIS_COMMAND_TIMEOUT_MS: "500",
    // The limits on, and high enough that only a fault can get in the way.
    RATE_LIMIT_GENERATE_PER_IP: "1000/1m",
    RATE_LIMIT_VERIFY_PER_IP: "1000/1m",
    RATE_LIMIT_VERIFY_PER_CHALLENGE: "20/1m",
  };
}

/** The names of the keys matching `pattern` on each master, by port. */
async function keysByMaster(pattern: string): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  for (const { port } of cluster.nodes) {
    const client = new Redis({ port, host: "127.0.0.1", lazyConnect: true });
    await client.connect();
    found.set(port, await client.keys(pattern));
    client.disconnect();
  }
  return found;
}

/** The one key matching `pattern`, and the master holding it. */
async function onlyKey(pattern: string): Promise<{ key: string; port: number }> {
  const hits = [...(await keysByMaster(pattern))].flatMap(([port, keys]) =>
    keys.map((key) => ({ key, port })),
  );
  expect(hits).toHaveLength(1);
  return hits[0] as { key: string; port: number };
}

function expectUnavailable(reply: JsonReply): void {
  expect([reply.body.code, errorReason(reply.body)]).toEqual(["unavailable", "STORE_UNAVAILABLE"]);
}

describe("a Redis Cluster master killed under a running service", () => {
  let server: RunningServer;
  let victim: number;

  beforeAll(async () => {
    // Where the caller's per-IP counters land depends on the key prefix. Learn
    // their key names from one call of each kind, then pick a prefix that puts
    // both on one master, the one this test kills.
    const probe = await startTestServer(env("probe:"));
    try {
      const made = await callJson(probe.url, `${otp}/Generate`, {});
      await callJson(probe.url, `${otp}/Verify`, { id: made.body.id, code: made.body.code });
    } finally {
      await probe.close();
    }
    const generateKey = (await onlyKey("probe:*generate_ip*")).key.slice("probe:".length);
    const verifyKey = (await onlyKey("probe:*verify_ip*")).key.slice("probe:".length);
    let prefix = "";
    for (let n = 0; prefix === ""; n++) {
      const candidate = `cf${n}:`;
      if (ownerOfKey(candidate + generateKey) === ownerOfKey(candidate + verifyKey)) {
        prefix = candidate;
      }
    }
    victim = ownerOfKey(prefix + verifyKey);
    server = await startTestServer(env(prefix));
  }, 30_000);
  afterAll(async () => {
    await server?.close();
  });

  it("serves what lives on the other masters, fails closed what lives on the dead one, and is not ready until it is back", async () => {
    // Sixty challenges spread over three masters: some on each, beyond doubt.
    const made = await Promise.all(
      Array.from({ length: 60 }, () => callJson(server.url, `${otp}/Generate`, {})),
    );
    const challenges = made.map((r) => r.body as { id: string; code: string });
    expect(made.map((r) => r.status)).toEqual(Array(60).fill(200));
    const onVictim = challenges.filter((c) => ownerOfChallenge(c.id) === victim);
    const elsewhere = challenges.filter((c) => ownerOfChallenge(c.id) !== victim);
    expect(onVictim.length).toBeGreaterThan(0);
    expect(elsewhere.length).toBeGreaterThan(0);
    // The caller's per-IP counters are on the master about to die.
    const warm = await callJson(server.url, `${otp}/Generate`, {});
    await callJson(server.url, `${otp}/Verify`, { id: warm.body.id, code: warm.body.code });
    const prefix = server.config.redis?.keyPrefix ?? "";
    expect((await onlyKey(`${prefix}*generate_ip*`)).port).toBe(victim);
    expect((await onlyKey(`${prefix}*verify_ip*`)).port).toBe(victim);
    expect(await readyz(server.url)).toBe(200);

    const instance = cluster.instances[cluster.nodes.findIndex((n) => n.port === victim)];
    await instance?.kill();
    await until(async () => (await readyz(server.url)) === 503, "readyz to fail");

    // One wrong guess each: the live ones count it, the dead ones must not answer at all.
    const wrong = (code: string) => (code === "000000" ? "111111" : "000000");
    const [live, dead] = await Promise.all([
      Promise.all(
        elsewhere.map((c) =>
          callJson(server.url, `${otp}/Verify`, { id: c.id, code: wrong(c.code) }),
        ),
      ),
      Promise.all(
        onVictim.map((c) =>
          callJson(server.url, `${otp}/Verify`, { id: c.id, code: wrong(c.code) }),
        ),
      ),
    ]);
    for (const reply of live) {
      expect(reply.body).toMatchObject({
        result: "VERIFY_RESULT_INVALID_CODE",
        attemptsRemaining: 4,
      });
    }
    for (const reply of dead) expectUnavailable(reply);
    const verified = await Promise.all(
      elsewhere.map((c) => callJson(server.url, `${otp}/Verify`, { id: c.id, code: c.code })),
    );
    for (const reply of verified) expect(reply.body.result).toBe("VERIFY_RESULT_VERIFIED");

    // New challenges: those whose id lands on a live master are made, the rest refused.
    const during = await Promise.all(
      Array.from({ length: 30 }, () => callJson(server.url, `${otp}/Generate`, {})),
    );
    const madeDuring = during.filter((r) => r.status === 200);
    expect(madeDuring.length).toBeGreaterThan(0);
    for (const reply of madeDuring) {
      expect(ownerOfChallenge(reply.body.id as string)).not.toBe(victim);
    }
    for (const reply of during.filter((r) => r.status !== 200)) expectUnavailable(reply);

    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/otp_rate_limit_failed_open_total\{[^}]*limit="verify_ip"[^}]*\} \d+/);
    expect(metrics).toMatch(
      /otp_rate_limit_failed_open_total\{[^}]*limit="generate_ip"[^}]*\} \d+/,
    );
    expect(await readyz(server.url)).toBe(503);

    // The master comes back with what it had: ready again, and its challenges
    // were never charged an attempt while it was away.
    await instance?.restart();
    await until(async () => (await readyz(server.url)) === 200, "readyz to recover");
    const after = await Promise.all(
      onVictim.map((c) => callJson(server.url, `${otp}/Verify`, { id: c.id, code: c.code })),
    );
    for (const reply of after) {
      expect(reply.body).toMatchObject({ result: "VERIFY_RESULT_VERIFIED", attemptsRemaining: 4 });
    }
  }, 60_000);
});
