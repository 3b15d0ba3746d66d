import type { ServiceEvent } from "./event-types.js";

// Declared by the domain that uses it (DESIGN.md): store/memory and
// store/redis implement it, and test/contract/event-feed-contract.ts holds both to it.

/** Unsubscribes a listener. */
export type StopListening = () => void;

/**
 * The live feed of events across replicas: what WatchEvents reads. Each
 * process publishes its buffered events as one batch (one write per flush,
 * never one per call); every process's listeners receive every batch,
 * whichever replica published it. The feed is live only: a listener sees
 * batches published after it started listening, and a bounded backlog.
 */
export interface EventFeed {
  /** Publishes one batch in one write; an empty batch writes nothing. */
  publish(events: readonly ServiceEvent[]): Promise<void>;
  /** Calls `onEvents` with each batch any replica publishes from now on. */
  listen(onEvents: (events: readonly ServiceEvent[]) => void): Promise<StopListening>;
  /**
   * Says that this process has live watchers (for `ttlMs`); {@link watched}
   * on every replica reads true until it lapses. Expiry timers are kept only
   * while someone can receive them.
   */
  announceWatching(ttlMs: number): Promise<void>;
  /**
   * True while this process has listeners, or any replica has announced live
   * watchers; implementations may cache the answer about other replicas for
   * up to a second, so it costs at most one store read per second.
   */
  watched(): Promise<boolean>;
  /**
   * What {@link watched} would answer, when it is known without asking the
   * store (this process's listeners, or a cached answer about the others);
   * undefined when it would have to ask.
   */
  watchedNow(): boolean | undefined;
  close(): Promise<void>;
}
