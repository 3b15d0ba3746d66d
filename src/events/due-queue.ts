// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/due-queue-contract.ts holds both to it.

/** An item to hold until it is due: an id unique within the queue, and an opaque body. */
export interface DueItem {
  id: string;
  body: string;
  dueMs: number;
}

/** An item handed to one claimer, with the number of its claim. */
export interface ClaimedItem {
  id: string;
  body: string;
  /**
   * Counts the claims of this item from 1: the attempt number. A later
   * claim (after a lapsed lease) makes earlier claims stale: their
   * `complete` and `retry` change nothing.
   */
  claim: number;
  /** When the item was first added (or last replayed), for giving up after a time. */
  sinceMs: number;
}

/**
 * A durable queue of items that become due at a time, claimed with a lease
 * so that exactly one claimer holds an item at a time, on any number of
 * replicas. An item whose claimer dies (its lease lapses) is handed out again
 * with the next claim number. Completed items may be kept for a while, so
 * they can be replayed. Used for webhook messages and for expiry timers.
 */
export interface DueQueue {
  /** Adds items in one write; an item already queued keeps its place and body. */
  add(items: readonly DueItem[], nowMs: number): Promise<void>;
  /** Claims up to `limit` due items (lapsed leases first return to due), oldest first. */
  claim(nowMs: number, limit: number): Promise<ClaimedItem[]>;
  /**
   * Finishes a claimed item: false when the claim is stale. With `keepMs`
   * the body stays readable ({@link get}) and replayable that long.
   */
  complete(id: string, claim: number, nowMs: number, keepMs: number): Promise<boolean>;
  /** Gives a claimed item back, due at `dueMs`; false when the claim is stale. */
  retry(id: string, claim: number, dueMs: number): Promise<boolean>;
  /**
   * Makes a kept (completed) item due again at `nowMs`, its claims counted
   * again from 1 and its time from `nowMs`; false when it is not kept or still queued.
   */
  replay(id: string, nowMs: number): Promise<boolean>;
  /** The body of a queued or kept item. */
  get(id: string): Promise<string | undefined>;
  /** Queued items, due or leased (kept ones not counted). */
  size(): Promise<number>;
}
