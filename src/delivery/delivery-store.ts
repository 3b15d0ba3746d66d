import type { ChannelKind } from "../core/channel-kind.js";

// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/store-contract.ts holds both to it.

/** A message the development outbox recorded instead of sending. */
export interface OutboxEntry {
  id: string;
  /** The tenant whose message this is; stamped by the tenant-scoped store. */
  tenantId?: string;
  channel: ChannelKind;
  recipient: string;
  text: string;
  challengeId: string;
  createdAtMs: number;
}

/** Filters for {@link Store.listOutbox}. */
export interface OutboxFilter {
  tenantId?: string;
  recipient?: string;
  challengeId?: string;
  limit: number;
}

/** One status change of a delivery. */
export interface DeliveryEventRecord {
  status: "queued" | "sent" | "delivered" | "failed" | "deleted";
  atMs: number;
  /** For "failed", the machine-readable reason. */
  reason: string;
  /** The provider attempt, counting from 1; 0 when not about one attempt. */
  attempt: number;
}

/** A message sent (or being sent) over a channel, and what became of it. */
export interface DeliveryRecord {
  id: string;
  /** The tenant that owns the delivery; stamped by the tenant-scoped store. */
  tenantId?: string;
  channel: ChannelKind;
  recipientMasked: string;
  challengeId: string;
  createdAtMs: number;
  /** For a self-destructing Telegram message, when it is deleted; 0 otherwise. */
  deleteAtMs: number;
  /** The provider's id for the message, once it accepted it. */
  providerMessageId: string;
  /** A hash of the Send request when it carried an idempotency key; empty otherwise. */
  idempotencyFingerprint: string;
  retainUntilMs: number;
  events: DeliveryEventRecord[];
}

/** Deliveries and their status history. */
export interface DeliveryStore {
  /**
   * Stores a new delivery unless one with its id exists: then "replay" when
   * both carry the same idempotency fingerprint, "conflict" otherwise.
   */
  createDelivery(
    record: DeliveryRecord,
  ): Promise<
    { kind: "created" } | { kind: "replay"; record: DeliveryRecord } | { kind: "conflict" }
  >;
  getDelivery(id: string, nowMs: number): Promise<DeliveryRecord | undefined>;
  /**
   * Appends a status event, and sets the provider's message id and the
   * self-destruct time when given (non-empty, non-zero); false for an unknown id.
   */
  appendDeliveryEvent(
    id: string,
    event: DeliveryEventRecord,
    providerMessageId?: string,
    deleteAtMs?: number,
    /** The tenant of the call making the change, for the event it emits; stores ignore it. */
    tenantId?: string,
  ): Promise<boolean>;
  /** The delivery a provider's message id belongs to, for status callbacks. */
  findDeliveryByProviderId(
    channel: ChannelKind,
    providerMessageId: string,
  ): Promise<string | undefined>;
}

/** The development outbox. */
export interface OutboxStore {
  /** Appends a message to the development outbox. */
  appendOutbox(entry: OutboxEntry, retentionMs: number): Promise<void>;
  /** Lists outbox messages, newest first. */
  listOutbox(filter: OutboxFilter, nowMs: number): Promise<OutboxEntry[]>;
}
