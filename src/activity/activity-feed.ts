import type { ActivityEvent } from "./activity-event.js";
import { boundedEvent } from "./activity-event.js";

export type { ActivityEvent, ActivityKindName } from "./activity-event.js";

/**
 * Carries batches of events between replicas: Redis pub/sub, or within the
 * one process of the in-memory store. Batches hold masked recipients only.
 */
export interface ActivityBus {
  /** Sends one batch to every replica, this one included. */
  send(batch: ActivityBatch): Promise<void>;
  /** Calls `onBatch` for every batch sent from now on, by any replica. */
  listen(onBatch: (batch: ActivityBatch) => void): Promise<void>;
  /** Tells every replica that this one has watchers: those listening at once, the others for `ttlMs`. */
  announceWatching(ttlMs: number): Promise<void>;
  /** True while any replica's announcement lasts. */
  watched(): Promise<boolean>;
  /** Calls `onAnnounced` whenever any replica announces watchers, from now on. */
  onWatching(onAnnounced: () => void): Promise<void>;
  close(): Promise<void>;
}

/** What one replica sends at a time: its events since the last batch, and how many it had to leave out. */
export interface ActivityBatch {
  events: ActivityEvent[];
  /** Events this replica left out since its last batch, because too many came at once. */
  dropped: number;
}

/** The bus of a single process: a batch reaches this process's listeners, which are all there are. */
export function createLocalActivityBus(): ActivityBus {
  const listeners: ((batch: ActivityBatch) => void)[] = [];
  return {
    async send(batch) {
      for (const listener of listeners) listener(batch);
    },
    async listen(onBatch) {
      listeners.push(onBatch);
    },
    // One process: its feed knows its own watchers.
    async announceWatching() {},
    async watched() {
      return false;
    },
    async onWatching() {},
    async close() {
      listeners.length = 0;
    },
  };
}

/** A watcher of the feed: told of each event, and of events lost before they reached it. */
export interface ActivityListener {
  event(event: ActivityEvent): void;
  /** `count` events were left out upstream (a replica had too many at once). */
  dropped(count: number): void;
}

/**
 * The live activity feed: what happens on every replica, as it happens.
 * `publish` only queues (no I/O on the caller's path); the queue goes out as
 * one message every `batchMs`, and each replica hands what arrives to its
 * local watchers. While nobody watches, on any replica, nothing is queued
 * or sent: see {@link ActivityFeed.live}.
 */
export interface ActivityFeed {
  /**
   * True while someone can see what is published: this replica has
   * watchers, or another one announced some within the last second or so.
   * Callers ask before they build an event, so an unwatched feed costs a
   * call nothing. A watcher sees other replicas' events from at most about
   * a second after it starts (`liveCheckMs`), its own replica's at once.
   */
  live(): boolean;
  /** Queues an event for every replica's watchers, while {@link live}; its fields are bounded first. */
  publish(event: ActivityEvent): void;
  /** Starts telling `listener` of events; resolves once listening. Returns the function that stops it. */
  watch(listener: ActivityListener): Promise<() => void>;
  /** Sends what is queued and stops. */
  close(): Promise<void>;
}

/** Options for {@link createActivityFeed}. */
export interface ActivityFeedOptions {
  bus: ActivityBus;
  /** How often queued events are sent, in milliseconds; 200 by default. */
  batchMs?: number;
  /** The most events queued between two sends; beyond it events are counted as dropped. 1,000 by default. */
  maxQueued?: number;
  /** How often a replica without watchers asks whether another has some; 1,000 ms by default. */
  liveCheckMs?: number;
  /** Told when a batch cannot be sent. */
  onError?: (err: unknown) => void;
  now?: () => number;
}

/** Creates an {@link ActivityFeed} over a bus. */
export function createActivityFeed(options: ActivityFeedOptions): ActivityFeed {
  const { bus } = options;
  const maxQueued = options.maxQueued ?? 1_000;
  let queue: ActivityEvent[] = [];
  let dropped = 0;
  const listeners = new Set<ActivityListener>();
  let listening: Promise<void> | undefined;
  const presence = watchPresence(bus, options.liveCheckMs ?? 1_000, options.now ?? Date.now);
  bus.onWatching(presence.heard).catch((err: unknown) => options.onError?.(err));
  const deliver = (batch: ActivityBatch) => {
    for (const listener of listeners) {
      if (batch.dropped > 0) listener.dropped(batch.dropped);
      for (const event of batch.events) listener.event(event);
    }
  };
  const send = async () => {
    if (queue.length === 0 && dropped === 0) return;
    const batch = { events: queue, dropped };
    queue = [];
    dropped = 0;
    await bus.send(batch).catch((err: unknown) => options.onError?.(err));
  };
  const timer = setInterval(() => {
    void send();
    presence.tick(listeners.size > 0);
  }, options.batchMs ?? 200);
  timer.unref();
  const live = () => listeners.size > 0 || presence.remote();
  return {
    live,
    publish(event) {
      if (!live()) return;
      if (queue.length >= maxQueued) dropped += 1;
      else queue.push(boundedEvent(event));
    },
    async watch(listener) {
      listening ??= bus.listen(deliver);
      await listening;
      listeners.add(listener);
      // Other replicas hear of it before the watcher is told it is watching.
      await presence.announce();
      return () => {
        listeners.delete(listener);
      };
    },
    async close() {
      clearInterval(timer);
      await send();
      listeners.clear();
    },
  };
}

/**
 * Whether other replicas have watchers, known without a round trip on any
 * call. A replica whose first watcher starts announces it at once (every
 * replica hears that), then again every period while it has watchers, each
 * announcement lasting three periods; a replica without watchers asks
 * whether one lasts once a period, in the background, so it stops sending
 * within three or four periods of the last watcher leaving.
 */
function watchPresence(bus: ActivityBus, periodMs: number, now: () => number) {
  let remote = false;
  let announcedMs = Number.NEGATIVE_INFINITY;
  let checkedMs = Number.NEGATIVE_INFINITY;
  let checking = false;
  const announce = async () => {
    announcedMs = now();
    // A store out of reach: the other replicas keep what they last knew.
    await bus.announceWatching(3 * periodMs).catch(() => {});
  };
  return {
    remote: () => remote,
    heard: () => {
      remote = true;
      checkedMs = now();
    },
    announce,
    tick(watching: boolean) {
      const nowMs = now();
      if (watching) {
        if (nowMs - announcedMs >= periodMs) void announce();
        return;
      }
      if (checking || nowMs - checkedMs < periodMs) return;
      checking = true;
      checkedMs = nowMs;
      bus
        .watched()
        .then((w) => {
          remote = w;
        })
        .catch(() => {})
        .finally(() => {
          checking = false;
        });
    },
  };
}
