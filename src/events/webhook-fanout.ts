import type { DueItem, DueQueue } from "./due-queue.js";
import type { EventFeed } from "./event-feed.js";
import { type ServiceEvent, webhookPayload } from "./event-types.js";
import type { WebhookEndpointRecord, WebhookStore } from "./webhook-store.js";

/** A queued webhook message: which endpoint, which event, and the exact body to sign and send. */
export interface WebhookMessage {
  endpointId: string;
  tenantId: string;
  /** The event id, sent as `webhook-id` on every attempt and replay. */
  eventId: string;
  eventType: string;
  payload: string;
}

/** A pending expiry timer: the challenge it is about, and what the expired event says. */
export interface ExpiryTimer {
  tenantId: string;
  challengeId: string;
  data: Record<string, string | number | boolean>;
}

/** The queue id of one event's message to one endpoint. */
export function messageItemId(endpointId: string, eventId: string): string {
  return `${endpointId}:${eventId}`;
}

/** True when an endpoint is enabled and takes events of this type. */
export function endpointWants(endpoint: WebhookEndpointRecord, type: string): boolean {
  return (
    endpoint.disabledAtMs === 0 &&
    (endpoint.eventTypes.length === 0 || endpoint.eventTypes.includes(type))
  );
}

/** Options for {@link createWebhookFanout}. */
export interface WebhookFanoutOptions {
  store: Pick<WebhookStore, "listEndpoints">;
  /** The webhook messages, due at once. */
  messages: Pick<DueQueue, "add">;
  /** The challenge expiry timers, due at each challenge's expiry. */
  timers: Pick<DueQueue, "add">;
  feed: Pick<EventFeed, "watched">;
  /** How long the endpoint list is trusted before it is read again; 2 s by default. */
  refreshMs?: number;
  now?: () => number;
}

/** Turns batches of events into queued messages and timers. */
export interface WebhookFanout {
  (events: readonly ServiceEvent[]): Promise<void>;
  /** Forgets the cached endpoints, so the next batch reads them (after a change in this process). */
  invalidate(): void;
  /**
   * Whether an event of `type` for `tenantId` would make a message (an
   * endpoint of the tenant takes it) or, for `challenge.created`, an expiry
   * timer an endpoint takes, by the cached endpoints; undefined when they are
   * not cached or due to be read again.
   */
  mayWant(tenantId: string, type: string): boolean | undefined;
}

/**
 * The flush step of the event buffer: for each event, one message per
 * enabled endpoint of its tenant that takes its type, all added in one
 * write; and for each created challenge whose tenant could hear of its
 * expiry (an endpoint takes `challenge.expired`, or someone watches), one
 * expiry timer. Endpoints are read once per `refreshMs` for every tenant, so
 * a flush costs at most one read of them and one write per queue. Tenants
 * with no endpoint and no watcher cost nothing but the live feed.
 */
export function createWebhookFanout(options: WebhookFanoutOptions): WebhookFanout {
  const now = options.now ?? Date.now;
  const refreshMs = options.refreshMs ?? 2000;
  let cached: { atMs: number; byTenant: Map<string, WebhookEndpointRecord[]> } | undefined;

  const endpoints = async () => {
    if (cached !== undefined && now() - cached.atMs < refreshMs) return cached.byTenant;
    const byTenant = new Map<string, WebhookEndpointRecord[]>();
    for (const endpoint of await options.store.listEndpoints(undefined)) {
      const list = byTenant.get(endpoint.tenantId) ?? [];
      list.push(endpoint);
      byTenant.set(endpoint.tenantId, list);
    }
    cached = { atMs: now(), byTenant };
    return byTenant;
  };

  const fanout = (async (events) => {
    const byTenant = await endpoints();
    const messages: DueItem[] = [];
    const timers: DueItem[] = [];
    let watched: boolean | undefined;
    const nowMs = now();
    for (const event of events) {
      const mine = byTenant.get(event.tenantId) ?? [];
      if (mine.length > 0) {
        const payload = webhookPayload(event);
        for (const endpoint of mine) {
          if (!endpointWants(endpoint, event.type)) continue;
          const message: WebhookMessage = {
            endpointId: endpoint.id,
            tenantId: event.tenantId,
            eventId: event.id,
            eventType: event.type,
            payload,
          };
          const id = messageItemId(endpoint.id, event.id);
          messages.push({ id, body: JSON.stringify(message), dueMs: nowMs });
        }
      }
      if (event.type !== "challenge.created") continue;
      const expiresAtMs = Number(event.data.expires_at_ms ?? 0);
      if (!(expiresAtMs > 0)) continue;
      const wants = mine.some((e) => endpointWants(e, "challenge.expired"));
      if (!wants) watched ??= await options.feed.watched();
      if (!wants && !watched) continue;
      const { expires_at_ms: _at, ...data } = event.data;
      const timer: ExpiryTimer = {
        tenantId: event.tenantId,
        challengeId: String(event.data.challenge_id),
        data,
      };
      timers.push({ id: timer.challengeId, body: JSON.stringify(timer), dueMs: expiresAtMs });
    }
    if (messages.length > 0) await options.messages.add(messages, nowMs);
    if (timers.length > 0) await options.timers.add(timers, nowMs);
  }) as WebhookFanout;
  fanout.invalidate = () => {
    cached = undefined;
  };
  fanout.mayWant = (tenantId, type) => {
    if (cached === undefined || now() - cached.atMs >= refreshMs) return undefined;
    const mine = cached.byTenant.get(tenantId);
    if (mine === undefined) return false;
    return mine.some(
      (e) =>
        endpointWants(e, type) ||
        (type === "challenge.created" && endpointWants(e, "challenge.expired")),
    );
  };
  return fanout;
}
