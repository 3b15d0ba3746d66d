import type { AuditRecorder } from "../audit/audit-recorder.js";
import type { Config } from "../config/index.js";
import { createSecretBox, type SecretBox } from "../core/secret-box.js";
import { newTenantScope, type TenantScope } from "../core/tenant-scope.js";
import type { DueQueue } from "../events/due-queue.js";
import { createEventEmitter, type EventEmitter } from "../events/event-emitter.js";
import type { EventFeed } from "../events/event-feed.js";
import { createWebhookAdmin } from "../events/webhook-admin.js";
import { createWebhookFanout, type WebhookFanout } from "../events/webhook-fanout.js";
import { createWebhookPoster } from "../events/webhook-http.js";
import type { WebhookStore } from "../events/webhook-store.js";
import { createWebhookWorker } from "../events/webhook-worker.js";
import type { ChallengeStore } from "../otp/challenge-store.js";
import { createMemoryDueQueue, createMemoryEventFeed } from "../store/memory/events.js";
import { createMemoryWebhookStore } from "../store/memory/webhooks.js";
import { createRedisDueQueue } from "../store/redis/due-queue.js";
import { createRedisEventFeed } from "../store/redis/event-feed.js";
import { createRedisWebhookStore } from "../store/redis/webhooks.js";
import type { Logger } from "../telemetry/logger.js";
import type { OpenedStore } from "./open-store.js";

/** The outbound events of the process: the buffer, the live feed, the webhook stores and queues. */
export interface EventParts {
  emitter: EventEmitter;
  feed: EventFeed;
  webhooks: WebhookStore;
  messages: DueQueue;
  timers: DueQueue;
  /** Timers of API keys' expiries, for the audit trail (audit/key-expiry.ts). */
  keyExpiries: DueQueue;
  /** Timers of fallbacks on silence (otp/fallback.ts). */
  fallbacks: DueQueue;
  /** Timers that withdraw messages when their code expires unused (otp/fallback.ts). */
  codeExpiries: DueQueue;
  fanout: WebhookFanout;
  /** Seals and opens webhook secrets. */
  box: SecretBox;
}

// How long finished messages stay replayable.
const keepMs = 3 * 86_400_000;

/**
 * Opens the events beside the store: Redis stores and queues under the
 * store's prefix when it is Redis, in-process ones otherwise.
 */
export function openEvents(
  opened: OpenedStore,
  config: Config,
  logger: Logger,
  now: () => number,
): EventParts {
  const w = config.webhooks;
  // A claim outlives the attempt it covers: the timeout, plus room for the bookkeeping.
  const leaseMs = w.timeoutMs * 2 + 5000;
  const retentionMs = w.retryForMs + keepMs + 86_400_000;
  const { redis } = opened;
  const feed = redis === undefined ? createMemoryEventFeed(now) : createRedisEventFeed(redis);
  const webhooks =
    redis === undefined ? createMemoryWebhookStore() : createRedisWebhookStore(redis);
  const queue = (name: string) =>
    redis === undefined
      ? createMemoryDueQueue({ leaseMs })
      : createRedisDueQueue({ ...redis, name, leaseMs, retentionMs });
  const messages = queue("webhook-messages");
  const timers = queue("challenge-expiry");
  const keyExpiries = queue("key-expiry");
  const fallbacks = queue("fallback");
  const codeExpiries = queue("code-expiry");
  const fanout = createWebhookFanout({ store: webhooks, messages, timers, feed, now });
  const emitter = createEventEmitter({
    feed,
    fanout,
    flushMs: w.flushMs,
    now,
    // Dropped at once only when both are known to be false; otherwise the flush decides.
    heard: (type, tenantId) =>
      fanout.mayWant(tenantId, type) !== false || feed.watchedNow() !== false,
    onError: throttled((err, skipped) =>
      logger.warn(
        { cause: messageOf(err), skipped },
        "events not written; kept for the next flush",
      ),
    ),
    onDropped: (count) => logger.error({ count }, "events dropped: the buffer is full"),
  });
  const box = createSecretBox(config.totp.encryptionKeys);
  return {
    emitter,
    feed,
    webhooks,
    messages,
    timers,
    keyExpiries,
    fallbacks,
    codeExpiries,
    fanout,
    box,
  };
}

/**
 * Starts the webhook worker of this process (every replica runs one; the
 * queue's leases share the work). Disabled endpoints are audited. `stop`
 * ends the worker, flushes the event buffer and closes the live feed.
 */
export function startWebhookWorker(
  deps: {
    events: EventParts;
    config: Config;
    logger: Logger;
    /** The tenant-scoped stores: timers read their challenge as its tenant. */
    stores: { scoped(scope: TenantScope): Pick<ChallengeStore, "getChallenge"> };
    now: () => number;
  },
  audit: AuditRecorder,
): { stop(): Promise<void> } {
  const parts = deps.events;
  const w = deps.config.webhooks;
  const worker = createWebhookWorker({
    store: parts.webhooks,
    messages: parts.messages,
    timers: parts.timers,
    box: parts.box,
    post: createWebhookPoster({
      allowPrivate: w.allowPrivateDestinations,
      timeoutMs: w.timeoutMs,
      maxResponseBytes: 64 * 1024,
    }),
    backoff: { baseMs: w.retryBaseMs, maxMs: w.retryMaxDelayMs, giveUpAfterMs: w.retryForMs },
    disable: { failures: w.disableAfterFailures, forMs: w.disableAfterMs },
    pollMs: w.pollMs,
    batch: 20,
    keepMs,
    attemptsKept: 100,
    events: parts.emitter,
    stillPending: async (tenantId, challengeId) => {
      const store = deps.stores.scoped(newTenantScope(tenantId));
      const record = await store.getChallenge(challengeId, deps.now());
      return record?.state === "pending";
    },
    onDisabled: (endpoint) => {
      void audit.record({
        actor: { kind: "system", id: "webhooks" },
        tenantId: endpoint.tenantId,
        action: "webhook.disabled",
        target: endpoint.id,
        outcome: "success",
        requestId: "",
        sourceAddress: "unknown",
        details: { reason: endpoint.disabledReason },
      });
    },
    onError: throttled((err, skipped) =>
      deps.logger.warn({ cause: messageOf(err), skipped }, "webhook poll failed"),
    ),
    now: deps.now,
  });
  worker.start();
  return {
    async stop() {
      await worker.stop();
      await parts.emitter.close();
      await parts.feed.close();
    },
  };
}

/** What AdminService's webhook handlers and key handlers need of the events. */
export function webhookExtras(app: { config: Config; events: EventParts; now: () => number }) {
  const { config, events, now } = app;
  return {
    sink: events.emitter,
    feed: events.feed,
    webhooks: createWebhookAdmin({
      store: events.webhooks,
      messages: events.messages,
      box: events.box,
      rules: {
        allowPrivate: config.webhooks.allowPrivateDestinations,
        // Production wants TLS, unless private destinations are allowed (a local receiver).
        requireHttps: config.mode === "production" && !config.webhooks.allowPrivateDestinations,
      },
      onChange: events.fanout.invalidate,
      now,
    }),
  };
}

// A flush or a poll fails every few hundred milliseconds while Redis is down:
// one line per ten seconds says so, with how many were not logged.
function throttled(log: (err: unknown, skipped: number) => void): (err: unknown) => void {
  let lastMs = Number.NEGATIVE_INFINITY;
  let skipped = 0;
  return (err) => {
    const nowMs = Date.now();
    if (nowMs - lastMs < 10_000) {
      skipped++;
      return;
    }
    lastMs = nowMs;
    log(err, skipped);
    skipped = 0;
  };
}

// The message only: a driver error hangs the command's arguments on itself.
function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
