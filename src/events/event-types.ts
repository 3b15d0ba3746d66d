import { randomUUID } from "node:crypto";

/**
 * Every event type the service emits, dotted and lower case. Payloads carry
 * ids, the tenant, the channel and masked recipients only: never a code, a
 * secret or a full recipient.
 */
export const eventTypes = [
  "challenge.created",
  "challenge.verified",
  "challenge.failed",
  "challenge.expired",
  "challenge.canceled",
  "delivery.status_changed",
  "totp.confirmed",
  "totp.locked",
  "totp.deleted",
  "quota.warning",
  "quota.exhausted",
  "fraud.prefix_blocked",
  "fraud.prefix_would_block",
  "key.created",
  "key.revoked",
  "webhook.endpoint_disabled",
  "webhook.test",
] as const;

/** One of {@link eventTypes}. */
export type EventType = (typeof eventTypes)[number];

const known: ReadonlySet<string> = new Set(eventTypes);

/** True for a name in {@link eventTypes}. */
export function isEventType(name: string): name is EventType {
  return known.has(name);
}

/** The small facts an event carries: flat, and never a secret. */
export type EventData = Record<string, string | number | boolean>;

/** One event as the service emits it, to webhooks and to WatchEvents. */
export interface ServiceEvent {
  /** "evt_" and 32 hex digits; the same id in every webhook and stream that carries it. */
  id: string;
  type: EventType;
  /** The tenant the event belongs to ("default" for anonymous development callers). */
  tenantId: string;
  timeMs: number;
  data: EventData;
}

/**
 * Makes an event with a fresh id.
 *
 * @example
 * newEvent("challenge.verified", "ten_1", Date.now(), { challenge_id: id });
 */
export function newEvent(
  type: EventType,
  tenantId: string,
  timeMs: number,
  data: EventData,
): ServiceEvent {
  return { id: `evt_${randomUUID().replace(/-/g, "")}`, type, tenantId, timeMs, data };
}

/**
 * The body a webhook carries, in the Standard Webhooks shape: `type`,
 * `timestamp` (ISO 8601) and `data`, with the event id and tenant inside `data`.
 */
export function webhookPayload(event: ServiceEvent): string {
  return JSON.stringify({
    type: event.type,
    timestamp: new Date(event.timeMs).toISOString(),
    data: { event_id: event.id, tenant_id: event.tenantId, ...event.data },
  });
}
