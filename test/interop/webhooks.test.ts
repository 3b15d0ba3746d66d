import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, errorReason, type JsonReply } from "../support/connect-json.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";
import { startWebhookReceiver, type WebhookReceiver } from "../support/webhook-receiver.js";

// Two replicas of the service, each its own process as `npm start` runs it,
// sharing one Redis, delivering to a receiver this test runs: a real HTTP
// server that verifies every signature (with the standardwebhooks library and
// with an HMAC of its own) and counts each webhook-id it accepts.
const admin = "otp.v1.AdminService";
const operator = { authorization: `Bearer ${testAdminToken}` };
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });
let redis: RedisInstance;
let a: ServerProcess;
let b: ServerProcess;
let receiver: WebhookReceiver;
let watchClient: grpc.Client &
  Record<string, (...args: unknown[]) => grpc.ClientReadableStream<unknown>>;

const env = () => ({
  ...productionEnv(),
  REDIS_URL: redis.url,
  REDIS_KEY_PREFIX: "webhooks-interop:",
  RATE_LIMIT_GENERATE_PER_IP: "off",
  RATE_LIMIT_VERIFY_PER_IP: "off",
  TENANT_QUOTA_GENERATE: "off",
  // The local receiver is on loopback: allowed here, refused by default in production.
  WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: "true",
  EVENT_FLUSH_MS: "50",
  WEBHOOK_POLL_MS: "50",
  WEBHOOK_RETRY_BASE_MS: "100",
  WEBHOOK_RETRY_MAX_DELAY_SECONDS: "1",
  // A short timeout makes a short lease: a killed replica's claims come back in about 6 s.
  WEBHOOK_TIMEOUT_MS: "500",
});

beforeAll(async () => {
  [redis, receiver] = await Promise.all([startRedis(), startWebhookReceiver()]);
  [a, b] = await Promise.all([spawnServer(env()), spawnServer(env())]);
  const definition = protoLoader.loadSync(["otp/v1/admin.proto"], {
    includeDirs: ["proto"],
    enums: String,
    defaults: true,
    longs: Number,
  });
  const loaded = grpc.loadPackageDefinition(definition) as unknown as {
    otp: { v1: { AdminService: grpc.ServiceClientConstructor } };
  };
  watchClient = new loaded.otp.v1.AdminService(
    `127.0.0.1:${b.port}`,
    grpc.credentials.createInsecure(),
  ) as typeof watchClient;
}, 60_000);

afterAll(async () => {
  watchClient?.close();
  for (const server of [a, b]) server?.child.kill("SIGTERM");
  await Promise.all([a?.exited, b?.exited]);
  await Promise.all([redis?.stop(), receiver?.close()]);
});

const call = (server: ServerProcess, method: string, body: unknown, headers = operator) =>
  callJson(server.url, `${admin}/${method}`, body, headers);

async function ok(reply: Promise<JsonReply>): Promise<JsonReply> {
  const res = await reply;
  expect([res.status, res.body.code]).toEqual([200, undefined]);
  return res;
}

interface StreamedEvent {
  id: string;
  type: string;
  tenantId: string;
  data: Record<string, unknown>;
}

/** Opens WatchEvents on replica b with a tenant's admin-read key and collects what it streams. */
function watch(secret: string, types: string[] = []) {
  const seen: StreamedEvent[] = [];
  const metadata = new grpc.Metadata();
  metadata.set("authorization", `Bearer ${secret}`);
  const stream = watchClient.WatchEvents?.({ types }, metadata) as grpc.ClientReadableStream<{
    event: StreamedEvent;
  }>;
  stream.on("data", (m: { event: StreamedEvent }) => seen.push(m.event));
  stream.on("error", () => {});
  return { seen, stop: () => stream.cancel() };
}

// A Generate's answer holds the code as `code`: only its status tells success.
async function generate(server: ServerProcess, secret: string): Promise<JsonReply> {
  const res = await callJson(server.url, "otp.v1.OtpService/Generate", {}, bearer(secret));
  expect(res.status).toBe(200);
  return res;
}

async function tenantWithKey(name: string) {
  const tenant = await ok(call(a, "CreateTenant", { name }));
  const tenantId = (tenant.body.tenant as { id: string }).id;
  const key = await ok(
    call(a, "CreateApiKey", {
      tenantId,
      kind: "API_KEY_KIND_SECRET",
      scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY", "SCOPE_ADMIN_READ"],
      name: "backend",
    }),
  );
  return { tenantId, secret: key.body.secret as string };
}

describe("webhooks and WatchEvents across two replicas", () => {
  it("streams a Generate made on one replica to a watcher on the other", async () => {
    const { secret } = await tenantWithKey("Watched");
    const live = watch(secret, ["challenge.created"]);
    // The stream is live once an event made after it opened arrives: poke until one does.
    let generated: JsonReply | undefined;
    for (let i = 0; i < 50 && live.seen.length === 0; i++) {
      generated = await generate(a, secret);
      await new Promise((r) => setTimeout(r, 100));
    }
    const event = live.seen.at(-1);
    expect(event?.type).toBe("challenge.created");
    const data = event?.data as { fields?: Record<string, { stringValue?: string }> };
    expect(data.fields?.challenge_id?.stringValue).toBe(generated?.body.id);
    live.stop();
  });

  it("delivers every event exactly once per webhook-id across a receiver outage and a killed replica", async () => {
    const { tenantId, secret } = await tenantWithKey("Hooked");
    const created = await ok(
      call(a, "CreateWebhookEndpoint", {
        tenantId,
        url: receiver.url,
        eventTypes: ["challenge.created", "challenge.verified"],
        description: "receiver",
      }),
    );
    const endpoint = created.body.endpoint as { id: string };
    receiver.secrets = [created.body.secret as string];
    expect(created.body.secret).toMatch(/^whsec_/);
    // The secret is shown once: listings never carry it.
    const listed = await ok(call(b, "ListWebhookEndpoints", { tenantId }));
    expect(JSON.stringify(listed.body)).not.toContain(created.body.secret as string);

    const live = watch(secret, ["challenge.created", "challenge.verified"]);
    // Endpoints are re-read by each replica within 2 s; wait until b's fan-out sees it.
    await new Promise((r) => setTimeout(r, 2500));
    for (let i = 0; i < 6; i++) {
      const made = await generate(i % 2 === 0 ? a : b, secret);
      if (i < 3) {
        const verified = await callJson(
          (i % 2 === 0 ? b : a).url,
          "otp.v1.OtpService/Verify",
          { id: made.body.id, code: made.body.code },
          bearer(secret),
        );
        expect(verified.body.result).toBe("VERIFY_RESULT_VERIFIED");
      }
    }
    await expect.poll(() => receiver.accepted.size, { timeout: 10_000 }).toBe(9);

    // The receiver fails; events made now are retried while it does.
    receiver.answer = 500;
    for (let i = 0; i < 6; i++) await generate(i % 2 === 0 ? a : b, secret);
    await expect
      .poll(() => receiver.received.filter((r) => r.status === 500).length, { timeout: 10_000 })
      .toBeGreaterThan(12);
    // a dies mid-retry (its claims lapse and b takes them over); it comes back as a new process.
    a.child.kill("SIGKILL");
    await a.exited;
    a = await spawnServer(env());
    receiver.answer = 200;

    const ids = () => new Set(live.seen.filter((e) => e.tenantId === tenantId).map((e) => e.id));
    await expect.poll(() => ids().size, { timeout: 10_000 }).toBe(15);
    await expect.poll(() => receiver.accepted.size, { timeout: 30_000 }).toBe(15);
    expect([...receiver.accepted.keys()].sort()).toEqual([...ids()].sort());
    expect([...receiver.accepted.values()].every((n) => n === 1)).toBe(true);
    expect(receiver.badSignatures).toBe(0);
    // Every retry of one event carries its id; each body names its type and tenant, never a code.
    for (const r of receiver.received) {
      expect(r.body.type).toMatch(/^challenge\.(created|verified)$/);
      expect((r.body.data as { tenant_id: string }).tenant_id).toBe(tenantId);
    }
    live.stop();

    const attempts = await ok(
      call(b, "ListWebhookAttempts", { endpointId: endpoint.id, pageSize: 100 }),
    );
    const statuses = (attempts.body.attempts as { httpStatus: number }[]).map((x) => x.httpStatus);
    expect(statuses).toContain(500);
    expect(statuses).toContain(200);
  }, 90_000);

  it("refuses a loopback URL in production unless the configuration allows it", async () => {
    const strict = await spawnServer({ ...env(), WEBHOOK_ALLOW_PRIVATE_DESTINATIONS: "false" });
    try {
      const { tenantId } = await tenantWithKey("Strict");
      for (const url of [
        receiver.url,
        "https://127.0.0.1/x",
        "https://[::1]/x",
        "https://169.254.169.254/x",
      ]) {
        const res = await call(strict, "CreateWebhookEndpoint", { tenantId, url });
        expect([res.body.code, errorReason(res.body)]).toEqual([
          "invalid_argument",
          "WEBHOOK_ENDPOINT_INVALID",
        ]);
      }
    } finally {
      strict.child.kill("SIGTERM");
      await strict.exited;
    }
  }, 30_000);
});
