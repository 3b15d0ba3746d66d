import type { ChannelKind } from "../core/channel-kind.js";
import { isUuid } from "../otp/validate.js";
import type { DeliveryStatus } from "./channel.js";
import type { DeliveryEventRecord, DeliveryRecord } from "./delivery-store.js";
import { deliveryErrors } from "./errors.js";

/** A delivery as clients may see it: the recipient masked, the history in order. */
export interface DeliveryView {
  id: string;
  channel: ChannelKind;
  recipientMasked: string;
  /** The furthest status reached, whatever order the events arrived in. */
  status: DeliveryStatus;
  history: DeliveryEventRecord[];
  challengeId: string;
  createdAtMs: number;
  deleteAtMs: number;
}

// Later statuses win over earlier ones, whatever order providers report them in.
const rank: Record<DeliveryStatus, number> = {
  queued: 0,
  sent: 1,
  delivered: 2,
  failed: 2,
  deleted: 3,
};

/** The furthest status a delivery's events reached. */
export function deliveryStatusOf(events: readonly DeliveryEventRecord[]): DeliveryStatus {
  let status: DeliveryStatus = "queued";
  for (const event of events) if (rank[event.status] > rank[status]) status = event.status;
  return status;
}

/** True when an event with `next` status says something new after `current`. */
export function advancesStatus(current: DeliveryStatus, next: DeliveryStatus): boolean {
  return rank[next] > rank[current];
}

/** The client's view of a stored delivery. */
export function viewOf(record: DeliveryRecord): DeliveryView {
  return {
    id: record.id,
    channel: record.channel,
    recipientMasked: record.recipientMasked,
    status: deliveryStatusOf(record.events),
    history: record.events,
    challengeId: record.challengeId,
    createdAtMs: record.createdAtMs,
    deleteAtMs: record.deleteAtMs,
  };
}

/**
 * The reason of a send that failed before any provider took the message; a
 * failure reported later by the provider (a status callback) is not one.
 */
export function sendFailureOf(record: DeliveryRecord): string | undefined {
  const last = record.events.at(-1);
  return record.providerMessageId === "" && last?.status === "failed" ? last.reason : undefined;
}

/**
 * Whether nothing more can happen to a delivery. `reportsStatus` tells
 * whether a provider reports further statuses for a message it accepted.
 */
export function isSettled(
  record: DeliveryRecord,
  reportsStatus?: (channel: ChannelKind) => boolean,
): boolean {
  const status = deliveryStatusOf(record.events);
  if (rank[status] >= 2) return true;
  if (status === "queued" && record.providerMessageId === "") return false; // being sent
  if (record.channel === "telegram") return record.deleteAtMs === 0;
  if (
    record.channel === "sms" ||
    record.channel === "whatsapp" ||
    record.channel === "voice" ||
    record.channel === "telegram_gateway"
  ) {
    return record.providerMessageId === "" || reportsStatus?.(record.channel) !== true;
  }
  return true;
}

/** A delivery id from a request, lower-cased; INVALID_ARGUMENT unless it is a UUID. */
export function deliveryIdOf(id: string): string {
  if (!isUuid(id)) throw deliveryErrors.idInvalid();
  return id.toLowerCase();
}
