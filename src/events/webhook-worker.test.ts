import { randomBytes } from "node:crypto";
import { once } from "node:events";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { startWebhookReceiver, type WebhookReceiver } from "../../test/support/webhook-receiver.js";
import { createSecretBox } from "../core/secret-box.js";
import { createMemoryDueQueue } from "../store/memory/events.js";
import { createMemoryWebhookStore } from "../store/memory/webhooks.js";
import type { EventType } from "./event-types.js";
import { newEvent } from "./event-types.js";
import { createWebhookAdmin } from "./webhook-admin.js";
import { createWebhookFanout } from "./webhook-fanout.js";
import { createWebhookPoster } from "./webhook-http.js";
import { createWebhookWorker, type DisableRule } from "./webhook-worker.js";

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function receiverFor(): Promise<WebhookReceiver> {
  const receiver = await startWebhookReceiver();
  closers.push(() => receiver.close());
  return receiver;
}

async function plainServer(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler);
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Memory stores, a worker over them and an admin, with a clock the test moves. */
function setup(options: { disable?: DisableRule; allowPrivate?: boolean } = {}) {
  const clock = { now: Date.now() };
  const now = () => clock.now;
  const store = createMemoryWebhookStore();
  const messages = createMemoryDueQueue({ leaseMs: 5000 });
  const timers = createMemoryDueQueue({ leaseMs: 5000 });
  const box = createSecretBox([randomBytes(32)]);
  const emitted: { type: EventType; tenantId: string; data: Record<string, unknown> }[] = [];
  const disabled: string[] = [];
  const pending = new Set<string>();
  const admin = createWebhookAdmin({
    store,
    messages,
    box,
    rules: { allowPrivate: true, requireHttps: false },
    now,
  });
  const worker = createWebhookWorker({
    store,
    messages,
    timers,
    box,
    post: createWebhookPoster({
      allowPrivate: options.allowPrivate ?? true,
      timeoutMs: 1000,
      maxResponseBytes: 1024,
    }),
    backoff: { baseMs: 1000, maxMs: 60_000, giveUpAfterMs: 3_600_000 },
    disable: options.disable ?? { failures: 1000, forMs: 0 },
    pollMs: 1_000_000,
    batch: 20,
    keepMs: 60_000,
    attemptsKept: 100,
    events: {
      emit: (type, tenantId, data) => emitted.push({ type, tenantId, data }),
      flush: async () => {},
    },
    stillPending: async (_tenant, id) => pending.has(id),
    onDisabled: (endpoint) => disabled.push(endpoint.id),
    now,
  });
  const fanout = createWebhookFanout({
    store,
    messages,
    timers,
    feed: { watched: async () => false },
    now,
  });
  return { clock, store, messages, timers, admin, worker, emitted, disabled, pending, fanout };
}

describe("webhook worker", () => {
  it("signs with every active secret during a rotation's overlap, and with the new one after it", async () => {
    const receiver = await receiverFor();
    const s = setup();
    const made = await s.admin.create({
      tenantId: "t",
      url: receiver.url,
      eventTypes: [],
      description: "",
    });
    const rotated = await s.admin.rotate(made.endpoint.id, 60_000);
    await s.admin.sendTest(made.endpoint.id);
    // A receiver that still knows only the old secret, then one that knows only the new one.
    receiver.secrets = [made.secret];
    await s.worker.pollOnce();
    receiver.secrets = [rotated.secret];
    await s.admin.sendTest(made.endpoint.id);
    await s.worker.pollOnce();
    expect(receiver.badSignatures).toBe(0);
    expect(receiver.received.map((r) => r.signature.split(" ").length)).toEqual([2, 2]);
    s.clock.now += 60_001;
    receiver.secrets = [made.secret];
    await s.admin.sendTest(made.endpoint.id);
    await s.worker.pollOnce();
    expect(receiver.badSignatures).toBe(1);
    expect(receiver.received.at(-1)?.signature.split(" ")).toHaveLength(1);
  });

  it("retries a failed message later with the same webhook-id, and records each attempt's status", async () => {
    const receiver = await receiverFor();
    const s = setup();
    const made = await s.admin.create({
      tenantId: "t",
      url: receiver.url,
      eventTypes: [],
      description: "",
    });
    receiver.secrets = [made.secret];
    receiver.answer = 503;
    const { messageId } = await s.admin.sendTest(made.endpoint.id);
    await s.worker.pollOnce();
    await s.worker.pollOnce();
    expect(receiver.received).toHaveLength(1);
    receiver.answer = 200;
    s.clock.now += 1000;
    await s.worker.pollOnce();
    expect(receiver.received.map((r) => [r.id, r.status])).toEqual([
      [messageId, 503],
      [messageId, 200],
    ]);
    const attempts = await s.admin.attempts(made.endpoint.id, 10);
    expect(attempts.map((a) => [a.attempt, a.httpStatus, a.outcome])).toEqual([
      [2, 200, "delivered"],
      [1, 503, "failed"],
    ]);
    // Replay sends it once more, with the same id.
    await s.admin.replay(made.endpoint.id, messageId);
    await s.worker.pollOnce();
    expect(receiver.accepted.get(messageId)).toBe(2);
  });

  it("gives a message up after the retry period", async () => {
    const receiver = await receiverFor();
    const s = setup();
    const made = await s.admin.create({
      tenantId: "t",
      url: receiver.url,
      eventTypes: [],
      description: "",
    });
    receiver.secrets = [made.secret];
    receiver.answer = 500;
    await s.admin.sendTest(made.endpoint.id);
    await s.worker.pollOnce();
    s.clock.now += 3_600_000;
    await s.worker.pollOnce();
    expect(await s.messages.size()).toBe(0);
    expect((await s.admin.attempts(made.endpoint.id, 1))[0]?.outcome).toBe("gave_up");
  });

  it("disables an endpoint that keeps failing, tells the audit hook and emits an event", async () => {
    const receiver = await receiverFor();
    const s = setup({ disable: { failures: 3, forMs: 0 } });
    const made = await s.admin.create({
      tenantId: "t",
      url: receiver.url,
      eventTypes: [],
      description: "",
    });
    receiver.secrets = [made.secret];
    receiver.answer = 500;
    for (let i = 0; i < 3; i++) await s.admin.sendTest(made.endpoint.id);
    await s.worker.pollOnce();
    const endpoint = await s.admin.get(made.endpoint.id);
    expect(endpoint.disabledAtMs).toBeGreaterThan(0);
    expect(s.disabled).toEqual([made.endpoint.id]);
    expect(s.emitted.map((e) => e.type)).toEqual(["webhook.endpoint_disabled"]);
    // Nothing more is sent while it is disabled; enabling it starts the count again.
    const before = receiver.received.length;
    await s.admin.sendTest(made.endpoint.id);
    await s.worker.pollOnce();
    expect(receiver.received).toHaveLength(before);
    const enabled = await s.admin.update(made.endpoint.id, { enabled: true });
    expect([enabled.disabledAtMs, enabled.health.consecutiveFailures]).toEqual([0, 0]);
  });

  it("emits challenge.expired for a challenge still pending at its expiry, and not for one that is not", async () => {
    const receiver = await receiverFor();
    const s = setup();
    await s.admin.create({
      tenantId: "t",
      url: receiver.url,
      eventTypes: ["challenge.expired"],
      description: "",
    });
    const created = (id: string) =>
      newEvent("challenge.created", "t", s.clock.now, {
        challenge_id: id,
        channel: "sms",
        recipient: "+1******4567",
        expires_at_ms: s.clock.now + 1000,
      });
    await s.fanout([created("c1"), created("c2")]);
    s.pending.add("c1");
    await s.worker.pollOnce();
    expect(s.emitted).toEqual([]);
    s.clock.now += 1000;
    await s.worker.pollOnce();
    expect(s.emitted).toEqual([
      {
        type: "challenge.expired",
        tenantId: "t",
        data: { challenge_id: "c1", channel: "sms", recipient: "+1******4567" },
      },
    ]);
    expect(await s.timers.size()).toBe(0);
  });
});

describe("webhook worker faults", () => {
  it("drops a message body that is not its own and gives back one it cannot sign", async () => {
    const receiver = await receiverFor();
    const s = setup();
    await s.messages.add([{ id: "x", body: "not json", dueMs: s.clock.now }], s.clock.now);
    const made = await s.admin.create({
      tenantId: "t",
      url: receiver.url,
      eventTypes: [],
      description: "",
    });
    // A secret sealed under a key this process no longer has.
    const other = createSecretBox([randomBytes(32)]);
    const endpoint = await s.store.getEndpoint(made.endpoint.id);
    if (endpoint === undefined) throw new Error("no endpoint");
    await s.store.putEndpoint({
      ...endpoint,
      secrets: endpoint.secrets.map((x) => ({ ...x, sealed: other.seal("whsec_x", endpoint.id) })),
    });
    await s.admin.sendTest(made.endpoint.id);
    await s.worker.pollOnce();
    expect(receiver.received).toHaveLength(0);
    // The unreadable body is gone; the unsignable message waits for a retry.
    expect(await s.messages.size()).toBe(1);
    expect(await s.messages.get("x")).toBeUndefined();
  });
});

describe("webhook poster", () => {
  it("refuses a host that resolves to loopback unless private destinations are allowed", async () => {
    const receiver = await receiverFor();
    const port = new URL(receiver.url).port;
    const strict = createWebhookPoster({
      allowPrivate: false,
      timeoutMs: 1000,
      maxResponseBytes: 10,
    });
    const result = await strict(`http://localhost:${port}/hooks`, {}, "{}");
    expect([result.status, result.error]).toEqual([0, "address_refused"]);
    expect(receiver.received).toHaveLength(0);
    const open = createWebhookPoster({ allowPrivate: true, timeoutMs: 1000, maxResponseBytes: 10 });
    expect((await open(`http://localhost:${port}/hooks`, {}, "{}")).status).toBe(401);
  });

  it("follows no redirect", async () => {
    const receiver = await receiverFor();
    const redirector = await plainServer((_req, res) => {
      res.writeHead(307, { location: receiver.url }).end();
    });
    const post = createWebhookPoster({ allowPrivate: true, timeoutMs: 1000, maxResponseBytes: 10 });
    const result = await post(`${redirector}/x`, {}, "{}");
    expect(result.status).toBe(307);
    expect(receiver.received).toHaveLength(0);
  });

  it("gives up on an endpoint that does not answer in time", async () => {
    const silent = await plainServer(() => {});
    const post = createWebhookPoster({ allowPrivate: true, timeoutMs: 200, maxResponseBytes: 10 });
    const result = await post(`${silent}/x`, {}, "{}");
    expect([result.status, result.error]).toEqual([0, "timeout"]);
    expect(result.durationMs).toBeLessThan(1000);
  });

  it("reads at most the bounded number of response bytes", async () => {
    const chatty = await plainServer((_req, res) => {
      res.writeHead(200);
      res.write("x".repeat(100_000));
    });
    const post = createWebhookPoster({
      allowPrivate: true,
      timeoutMs: 2000,
      maxResponseBytes: 1024,
    });
    const result = await post(`${chatty}/x`, {}, "{}");
    expect([result.status, result.error]).toEqual([200, ""]);
  });
});
