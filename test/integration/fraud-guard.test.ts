import {
  Channel,
  Code,
  createDeliveryClient,
  createOtpClient,
  OtpError,
  VerifyResult,
} from "@otp/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiKey } from "../support/api-keys.js";
import { callJson } from "../support/connect-json.js";
import { captureEventStream } from "../support/event-capture.js";
import { type ProviderFakes, providerEnv, startProviderFakes } from "../support/provider-fakes.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// The simulation issue 16 asks for: a production server process with Redis,
// SMS through the real Twilio SDK to the Twilio fake, a pumping burst to
// mobile numbers of one prefix that nobody verifies, beside ordinary traffic
// to other prefixes of the same country that is verified with the code the
// fake received. Small thresholds, so the simulation takes seconds.
const floor = 10; // FRAUD_MIN_SENDS
const evaluateMs = 300; // FRAUD_EVALUATE_MS: flush, judge and read blocks
const paceMs = 150; // one burst send per pace, at most
const cooldownSeconds = 600;
/**
 * The stated bound: the floor, plus the sends admitted during at most one
 * evaluation period after the floor-th send was counted (one per pace, plus
 * the one in flight when the period began).
 */
const bound = floor + Math.ceil(evaluateMs / paceMs) + 1;
const burstSize = 30;

const pumped = (i: number) => `+4475123${String(i).padStart(5, "0")}`; // +44 751: GB mobile
const ordinary = (i: number) =>
  i % 2 === 0
    ? `+4474001${String(i).padStart(5, "0")}` // +44 740
    : `+4478123${String(i).padStart(5, "0")}`; // +44 781

let fakes: ProviderFakes;
let redis: RedisInstance;
const servers: ServerProcess[] = [];

beforeAll(async () => {
  [fakes, redis] = await Promise.all([startProviderFakes(), startRedis()]);
}, 30_000);

afterAll(async () => {
  for (const s of servers) {
    s.child.kill("SIGTERM");
    await s.exited;
  }
  await Promise.all([fakes?.close(), redis?.stop()]);
});

/** A production replica on the shared Redis, with the guard's test thresholds. */
async function replica(mode: "enforce" | "report", keyPrefix: string): Promise<ServerProcess> {
  const server = await spawnServer({
    ...productionEnv(),
    ...providerEnv(fakes),
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: keyPrefix,
    LOG_LEVEL: "error",
    // One process per replica, so /metrics and the stated bound are one process's.
    WORKERS: "1",
    // Every other limit off: what stops the burst here is the guard alone.
    RATE_LIMIT_GENERATE_PER_IP: "off",
    RATE_LIMIT_VERIFY_PER_IP: "off",
    RATE_LIMIT_SENDS_PER_RECIPIENT: "off",
    TENANT_QUOTA_GENERATE: "off",
    TENANT_QUOTA_SENDS_PER_CHANNEL: "off",
    FRAUD_GUARD: mode,
    FRAUD_MIN_SENDS: String(floor),
    FRAUD_MIN_VERIFY_RATE: "0.5",
    FRAUD_WINDOW_SECONDS: "600",
    FRAUD_COOLDOWN_SECONDS: String(cooldownSeconds),
    FRAUD_EVALUATE_MS: String(evaluateMs),
  });
  servers.push(server);
  return server;
}

async function clientsOf(server: ServerProcess, apiKey?: string) {
  const key =
    apiKey ??
    (await createApiKey(server.url, testAdminToken, {
      scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY", "SCOPE_SEND"],
    }));
  const options = { baseUrl: server.url, protocol: "connect" as const, retry: { maxAttempts: 1 } };
  return {
    key,
    otp: createOtpClient({ ...options, apiKey: key }),
    delivery: createDeliveryClient({ ...options, apiKey: key }),
  };
}

type Clients = Awaited<ReturnType<typeof clientsOf>>;

async function failure(p: Promise<unknown>): Promise<OtpError | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    if (err instanceof OtpError) return err;
    throw err;
  }
}

/** The code the Twilio fake received for `recipient`. */
function codeSentTo(recipient: string): string {
  const message = fakes.twilio.messages.findLast((m) => m.to === recipient);
  const code = /\b(\d{6})\b/.exec(message?.body ?? "")?.[1];
  if (code === undefined) throw new Error("no code reached the fake");
  return code;
}

/**
 * Drives the burst, one send per pace, and beside each burst send one
 * ordinary code that is verified with the code the fake received.
 */
async function simulate(clients: Clients, tag: number) {
  const burst: (OtpError | undefined)[] = [];
  const ordinaryResults: VerifyResult[] = [];
  for (let i = 0; i < burstSize; i++) {
    const started = performance.now();
    burst.push(
      await failure(
        clients.otp.generate({
          deliveryTargets: [{ channel: Channel.SMS, recipient: pumped(tag * 1000 + i) }],
        }),
      ),
    );
    const to = ordinary(tag * 1000 + i);
    const { id } = await clients.otp.generate({
      deliveryTargets: [{ channel: Channel.SMS, recipient: to }],
    });
    const verified = await clients.otp.verify({ id, code: codeSentTo(to) });
    ordinaryResults.push(verified.result);
    const left = paceMs - (performance.now() - started);
    if (left > 0) await new Promise((r) => setTimeout(r, left));
  }
  return { burst, ordinaryResults };
}

/** One counter of /metrics summed over the label sets that carry every given label. */
async function metric(server: ServerProcess, name: string, labels: string[]): Promise<number> {
  const text = await (await fetch(`${server.url}/metrics`)).text();
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)))
    .reduce((sum, line) => sum + Number(line.split(" ").at(-1)), 0);
}

async function auditEntries(server: ServerProcess, action: string) {
  const reply = await callJson(
    server.url,
    "otp.v1.AdminService/ListAuditEvents",
    { pageSize: 200 },
    { authorization: `Bearer ${testAdminToken}` },
  );
  const events = (reply.body.events ?? []) as Record<string, unknown>[];
  return events.filter((e) => e.action === action);
}

describe("the fraud guard in enforce mode", () => {
  let server: ServerProcess;
  let clients: Clients;
  let run: Awaited<ReturnType<typeof simulate>>;
  let stream: ReturnType<typeof captureEventStream>;

  beforeAll(async () => {
    server = await replica("enforce", "enf:");
    clients = await clientsOf(server);
    stream = captureEventStream(server.url, testAdminToken);
    run = await simulate(clients, 1);
  }, 60_000);
  afterAll(() => stream?.stop());

  it(`stops the burst within ${bound} sends: the floor plus one evaluation period`, () => {
    const accepted = run.burst.findIndex((err) => err !== undefined);
    expect(accepted).toBeGreaterThanOrEqual(floor);
    expect(accepted).toBeLessThanOrEqual(bound);
    const reachedTwilio = fakes.twilio.messages.filter((m) => m.to.startsWith("+4475123"));
    expect(reachedTwilio).toHaveLength(accepted);
  });

  it("refuses every later burst send with FRAUD_SUSPECTED and the cool-down left", () => {
    const first = run.burst.findIndex((err) => err !== undefined);
    const refused = run.burst.slice(first);
    expect(refused.length).toBeGreaterThan(burstSize - bound - 1);
    for (const err of refused) {
      expect(err?.code).toBe(Code.ResourceExhausted);
      expect(err?.reason).toBe("FRAUD_SUSPECTED");
      expect(err?.info).toEqual({ prefix: "+44 751", channel: "sms" });
      expect(err?.retryDelayMs).toBeGreaterThan((cooldownSeconds - 60) * 1000);
      expect(err?.retryDelayMs).toBeLessThanOrEqual(cooldownSeconds * 1000);
      // The message names the prefix, never a number.
      expect(err?.rawMessage).not.toMatch(/\d{7}/);
    }
  });

  it("leaves the ordinary traffic of the same country untouched: every code delivered and verified", () => {
    expect(run.ordinaryResults).toEqual(Array(burstSize).fill(VerifyResult.VERIFIED));
  });

  it("refuses a Send to the blocked prefix too, and still sends to other prefixes", async () => {
    const err = await failure(
      clients.delivery.send({
        channel: Channel.SMS,
        recipient: pumped(1999),
        content: { case: "text", value: "hello" },
      }),
    );
    expect([err?.code, err?.reason]).toEqual([Code.ResourceExhausted, "FRAUD_SUSPECTED"]);
    await clients.delivery.send({
      channel: Channel.SMS,
      recipient: ordinary(1999),
      content: { case: "text", value: "hello" },
    });
  });

  it("keeps blocking premium-rate numbers by their type, as before", async () => {
    const err = await failure(
      clients.otp.generate({
        deliveryTargets: [{ channel: Channel.SMS, recipient: "+449098790000" }],
      }),
    );
    expect([err?.code, err?.reason]).toEqual([Code.InvalidArgument, "NUMBER_TYPE_NOT_ALLOWED"]);
  });

  it("counts the decision and the refusals in /metrics, by country only", async () => {
    expect(
      await metric(server, "otp_fraud_decisions_total", ['decision="block"', 'country="GB"']),
    ).toBe(1);
    expect(
      await metric(server, "otp_fraud_decisions_total", ['decision="refuse"', 'mode="enforce"']),
    ).toBeGreaterThanOrEqual(burstSize - bound);
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).not.toContain("+44");
  });

  it("writes the block to the audit trail as a security event naming the prefix", async () => {
    await expect.poll(() => auditEntries(server, "fraud.prefix_blocked")).toHaveLength(1);
    const [entry] = await auditEntries(server, "fraud.prefix_blocked");
    expect(entry).toMatchObject({ target: "+44 751" });
  });

  it("emits the block as an event to WatchEvents, naming the prefix", async () => {
    const blocked = /\{"event":\{[^{}]*"type":"fraud\.prefix_blocked"[^{}]*"data":\{[^{}]*\}\}\}/;
    await expect.poll(() => blocked.exec(stream.text()) !== null, { timeout: 5_000 }).toBe(true);
    const { event } = JSON.parse(blocked.exec(stream.text())?.[0] ?? "{}");
    expect(Object.keys(event.data).sort()).toEqual([
      "country",
      "prefix",
      "sends",
      "until_ms",
      "verified",
    ]);
    expect(event.data).toMatchObject({ prefix: "+44 751", country: "GB", verified: 0 });
    expect(event.data.sends).toBeGreaterThanOrEqual(floor);
  });

  it("stops the prefix on another replica that joins, from the blocks in Redis", async () => {
    const other = await replica("enforce", "enf:");
    const there = await clientsOf(other, clients.key);
    await new Promise((r) => setTimeout(r, 2 * evaluateMs + 100));
    const err = await failure(
      there.otp.generate({
        deliveryTargets: [{ channel: Channel.SMS, recipient: pumped(1998) }],
      }),
    );
    expect([err?.code, err?.reason]).toEqual([Code.ResourceExhausted, "FRAUD_SUSPECTED"]);
  }, 30_000);
});

describe("the fraud guard in report mode", () => {
  let server: ServerProcess;
  let run: Awaited<ReturnType<typeof simulate>>;

  beforeAll(async () => {
    server = await replica("report", "rep:");
    run = await simulate(await clientsOf(server), 2);
  }, 60_000);

  it("lets the whole burst through", () => {
    expect(run.burst.every((err) => err === undefined)).toBe(true);
    expect(run.ordinaryResults).toEqual(Array(burstSize).fill(VerifyResult.VERIFIED));
  });

  it("audits and counts what it would have refused", async () => {
    await expect.poll(() => auditEntries(server, "fraud.prefix_would_block")).toHaveLength(1);
    expect(await auditEntries(server, "fraud.prefix_blocked")).toHaveLength(0);
    expect(await metric(server, "otp_fraud_decisions_total", ['decision="would_block"'])).toBe(1);
    const wouldRefuse = await metric(server, "otp_fraud_decisions_total", [
      'decision="would_refuse"',
      'mode="report"',
    ]);
    expect(wouldRefuse).toBeGreaterThanOrEqual(burstSize - bound);
  });
});
