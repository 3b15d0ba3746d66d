/** A Telegram message that must be deleted. */
export interface DeletionItem {
  chatId: string;
  messageId: number;
  /** The delivery that sent the message, to record "deleted" against. */
  deliveryId: string;
  /** The W3C traceparent of the send, so the deletion's span can link to it. */
  traceparent?: string;
}

/**
 * The pending Telegram deletions, shared by every instance of the service.
 * Items are claimed with a lease: a claimed item belongs to one caller until
 * it completes or releases it, or until the lease runs out (its claimer
 * crashed), when it becomes due again.
 */
export interface DeletionQueue {
  /** Adds an item, due at `dueMs` (epoch milliseconds); scheduling it again moves it. */
  schedule(item: DeletionItem, dueMs: number): Promise<void>;
  /**
   * Atomically claims up to `limit` items due at `nowMs`, oldest first, leased
   * until `nowMs` plus the queue's lease. No two callers, in this process or
   * another, ever hold the same item at once.
   */
  claimDue(nowMs: number, limit: number): Promise<DeletionItem[]>;
  /** Removes a claimed item for good: it was deleted, or can never be. */
  complete(item: DeletionItem): Promise<void>;
  /** Gives a claimed item back, due again at `dueMs` (a retry later). */
  release(item: DeletionItem, dueMs: number): Promise<void>;
  /** How many items wait or are leased; for tests and metrics. */
  size(): Promise<number>;
}

/** A stable string for an item: the same item always gives the same member. */
export function deletionMember(item: DeletionItem): string {
  return JSON.stringify({
    chatId: item.chatId,
    messageId: item.messageId,
    deliveryId: item.deliveryId,
    ...(item.traceparent === undefined ? {} : { traceparent: item.traceparent }),
  });
}

/** Reads back a {@link deletionMember}. */
export function parseDeletionMember(member: string): DeletionItem {
  const parsed = JSON.parse(member) as DeletionItem;
  return {
    chatId: parsed.chatId,
    messageId: parsed.messageId,
    deliveryId: parsed.deliveryId,
    ...(typeof parsed.traceparent === "string" ? { traceparent: parsed.traceparent } : {}),
  };
}

/** How long a claim lasts unless the queue is given another lease: 30 seconds. */
export const defaultDeletionLeaseMs = 30_000;
