import { Webhook } from "standardwebhooks";
import type { SecretBox } from "../core/secret-box.js";
import { type BackoffPolicy, retryDelayMs, shouldGiveUp } from "./backoff.js";
import type { ClaimedItem, DueQueue } from "./due-queue.js";
import type { EventSink } from "./event-emitter.js";
import type { ExpiryTimer, WebhookMessage } from "./webhook-fanout.js";
import type { PostResult } from "./webhook-http.js";
import type { WebhookAttemptRecord, WebhookEndpointRecord, WebhookStore } from "./webhook-store.js";

/** When an endpoint that keeps failing is disabled: both must hold. */
export interface DisableRule {
  /** Failed attempts in a row. */
  failures: number;
  /** How long it has failed without a success, in milliseconds. */
  forMs: number;
}

/** Options for {@link createWebhookWorker}. */
export interface WebhookWorkerOptions {
  store: WebhookStore;
  messages: DueQueue;
  timers: DueQueue;
  box: SecretBox;
  post: (url: string, headers: Record<string, string>, body: string) => Promise<PostResult>;
  backoff: BackoffPolicy;
  disable: DisableRule;
  /** How often the queues are polled, in milliseconds. */
  pollMs: number;
  /** The most messages one poll sends, concurrently. */
  batch: number;
  /** How long a finished message stays replayable, in milliseconds. */
  keepMs: number;
  /** How many recent attempts are kept per endpoint. */
  attemptsKept: number;
  /** Where `challenge.expired` and `webhook.endpoint_disabled` go, and how they are flushed. */
  events: EventSink & { flush(): Promise<void> };
  /** True when the challenge is still pending (not verified, failed or canceled). */
  stillPending: (tenantId: string, challengeId: string) => Promise<boolean>;
  /** Told of an endpoint this worker disabled, for the audit trail. */
  onDisabled?: (endpoint: WebhookEndpointRecord) => void;
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** The signing secrets of an endpoint that are still current at `nowMs`, opened. */
export function activeSecrets(
  box: SecretBox,
  endpoint: WebhookEndpointRecord,
  nowMs: number,
): string[] {
  return endpoint.secrets
    .filter((s) => s.expiresAtMs === 0 || s.expiresAtMs > nowMs)
    .map((s) => box.open(s.sealed, endpoint.id));
}

/**
 * The Standard Webhooks headers of one message: `webhook-id`,
 * `webhook-timestamp`, and `webhook-signature` with one `v1,<sig>` per active
 * secret, separated by spaces (a receiver accepts any one that verifies).
 */
export function signedHeaders(
  secrets: readonly string[],
  messageId: string,
  at: Date,
  payload: string,
): Record<string, string> {
  const signatures = secrets.map((s) => new Webhook(s).sign(messageId, at, payload));
  return {
    "webhook-id": messageId,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": signatures.join(" "),
  };
}

/**
 * Sends what the queues hold, on every replica: each poll claims due
 * messages (the queue's lease gives each attempt to exactly one replica),
 * signs and POSTs them, then completes them, or gives them back due after
 * the backoff, or gives up after `backoff.giveUpAfterMs`. Every attempt is
 * recorded with its HTTP status. It also claims due expiry timers and emits
 * `challenge.expired` for challenges still pending then.
 */
export function createWebhookWorker(options: WebhookWorkerOptions): {
  start(): void;
  stop(): Promise<void>;
  /** One poll of both queues (tests). */
  pollOnce(): Promise<void>;
} {
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const poll = async () => {
    try {
      const claimed = await options.messages.claim(now(), options.batch);
      await Promise.all(claimed.map((item) => sendGuarded(options, item, now)));
      await expireDue(options, now);
    } catch (err) {
      options.onError?.(err);
    }
  };
  const tick = () => {
    running ??= poll().finally(() => {
      running = undefined;
    });
  };
  return {
    start() {
      timer ??= setInterval(tick, options.pollMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
    async pollOnce() {
      await running;
      tick();
      await running;
    },
  };
}

// One attempt, whatever goes wrong: a body that is not ours is dropped; a
// store or sealing failure gives the message back for a later attempt.
async function sendGuarded(o: WebhookWorkerOptions, item: ClaimedItem, now: () => number) {
  let message: WebhookMessage;
  try {
    message = JSON.parse(item.body) as WebhookMessage;
  } catch (err) {
    o.onError?.(err);
    await o.messages.complete(item.id, item.claim, now(), 0).catch(() => false);
    return;
  }
  try {
    await sendOne(o, item, message, now);
  } catch (err) {
    o.onError?.(err);
    const dueMs = now() + retryDelayMs(o.backoff, item.claim);
    await o.messages.retry(item.id, item.claim, dueMs).catch(() => false);
  }
}

// One attempt of one claimed message.
async function sendOne(
  o: WebhookWorkerOptions,
  item: ClaimedItem,
  message: WebhookMessage,
  now: () => number,
) {
  const endpoint = await o.store.getEndpoint(message.endpointId);
  const startMs = now();
  const record = (r: Omit<WebhookAttemptRecord, "messageId" | "eventType" | "attempt" | "atMs">) =>
    o.store.recordAttempt(
      message.endpointId,
      {
        messageId: message.eventId,
        eventType: message.eventType,
        attempt: item.claim,
        atMs: startMs,
        ...r,
      },
      o.attemptsKept,
    );
  if (endpoint === undefined || endpoint.disabledAtMs !== 0) {
    // A deleted or disabled endpoint: the message is finished, not sent.
    if (endpoint !== undefined) {
      await record({
        httpStatus: 0,
        outcome: "gave_up",
        durationMs: 0,
        error: "endpoint_disabled",
      });
    }
    await o.messages.complete(item.id, item.claim, startMs, o.keepMs);
    return;
  }
  const headers = signedHeaders(
    activeSecrets(o.box, endpoint, startMs),
    message.eventId,
    new Date(startMs),
    message.payload,
  );
  const result = await o.post(endpoint.url, headers, message.payload);
  const ok = result.status >= 200 && result.status < 300;
  const endMs = now();
  const giveUp = !ok && shouldGiveUp(o.backoff, item.sinceMs, endMs);
  await record({
    httpStatus: result.status,
    outcome: ok
      ? "delivered"
      : giveUp
        ? "gave_up"
        : result.error === "address_refused"
          ? "refused"
          : "failed",
    durationMs: result.durationMs,
    error: ok ? "" : result.error || `http_${result.status}`,
  });
  if (ok || giveUp) await o.messages.complete(item.id, item.claim, endMs, o.keepMs);
  else await o.messages.retry(item.id, item.claim, endMs + retryDelayMs(o.backoff, item.claim));
  const health = await o.store.recordOutcome(endpoint.id, ok, endMs);
  if (
    !ok &&
    health.consecutiveFailures >= o.disable.failures &&
    endMs - health.failingSinceMs >= o.disable.forMs
  ) {
    await disableEndpoint(o, endpoint, health.consecutiveFailures, endMs);
  }
}

async function disableEndpoint(
  o: WebhookWorkerOptions,
  endpoint: WebhookEndpointRecord,
  failures: number,
  nowMs: number,
) {
  const latest = await o.store.getEndpoint(endpoint.id);
  if (latest === undefined || latest.disabledAtMs !== 0) return;
  const disabled = {
    ...latest,
    disabledAtMs: nowMs,
    disabledReason: `${failures} failed attempts in a row`,
  };
  await o.store.putEndpoint(disabled);
  o.onDisabled?.(disabled);
  o.events.emit("webhook.endpoint_disabled", endpoint.tenantId, {
    endpoint_id: endpoint.id,
    consecutive_failures: failures,
  });
}

// Claims due expiry timers; emits challenge.expired for those still pending,
// flushes, and only then completes them: a crash re-delivers, never loses.
async function expireDue(o: WebhookWorkerOptions, now: () => number) {
  const due = await o.timers.claim(now(), 100);
  if (due.length === 0) return;
  const finished: ClaimedItem[] = [];
  for (const item of due) {
    const timer = JSON.parse(item.body) as ExpiryTimer;
    try {
      if (await o.stillPending(timer.tenantId, timer.challengeId)) {
        o.events.emit("challenge.expired", timer.tenantId, {
          ...timer.data,
          challenge_id: timer.challengeId,
        });
      }
      finished.push(item);
    } catch (err) {
      o.onError?.(err);
      await o.timers.retry(item.id, item.claim, now() + 5000);
    }
  }
  await o.events.flush();
  for (const item of finished) await o.timers.complete(item.id, item.claim, now(), 0);
}
