import { latencyBucketIndex } from "../core/latency-buckets.js";
import { createFieldNames } from "./activity-fields.js";
import { type ActivityStore, bucketStart, minuteMs, retentionMs } from "./activity-store.js";

/** What one challenge is counted under: its tenant, first channel and destination country. */
export interface ChallengeSegment {
  tenantId: string;
  /** The channel of the first delivery target, or "none" when the code was returned. */
  channel: string;
  /** See countryOf in country.ts. */
  country: string;
  /** When the challenge's code expires, for the count of active challenges. */
  expiresAtMs: number;
}

/**
 * Counts activity in process memory and adds it to the shared store on a
 * timer, in one batch per flush: the calls it counts make no store command
 * and wait for nothing. Every method is a few map updates on counter names
 * built once (activity-fields.ts).
 */
export interface ActivityRecorder {
  /** A challenge was created. */
  generated(segment: ChallengeSegment): void;
  /** A verification finished with `outcome`; `verified` and `attempts_exhausted` end the challenge. */
  verified(segment: ChallengeSegment, outcome: string): void;
  /** An RPC was answered with the Connect code name `code` after `seconds`. */
  rpc(tenantId: string, procedure: string, code: string, seconds: number): void;
  /** A call was refused by the rate limit named `limit`. */
  rateLimited(tenantId: string, limit: string): void;
  /** A call was refused with the error reason `reason`. */
  refused(tenantId: string, reason: string): void;
  /** A delivery over `channel` reached `status`. */
  delivery(tenantId: string, channel: string, status: string): void;
  /** Adds what was counted since the last flush to the store; resolves when written (or failed). */
  flush(): Promise<void>;
  /** Stops the timer and flushes what is left. */
  close(): Promise<void>;
}

/** Options for {@link createActivityRecorder}. */
export interface ActivityRecorderOptions {
  store: ActivityStore;
  now?: () => number;
  /** How often counts are written, in milliseconds; 1,000 by default, 0 for no timer. */
  flushMs?: number;
  /** Told when a flush fails; its counts are kept for the next one. */
  onError?: (err: unknown) => void;
}

/** Creates an {@link ActivityRecorder} that flushes to `store` every `flushMs`. */
export function createActivityRecorder(options: ActivityRecorderOptions): ActivityRecorder {
  const { store } = options;
  const now = options.now ?? Date.now;
  const names = createFieldNames();
  const counts = createMinuteCounts(now);
  const { add, addAt } = counts;

  let flushing: Promise<void> | undefined;
  const flushOnce = async () => {
    const batch = counts.take();
    if (batch.size === 0) return;
    try {
      await store.add(batch);
    } catch (err) {
      counts.putBack(batch);
      options.onError?.(err);
    }
  };
  const flush = () => {
    flushing ??= flushOnce().finally(() => {
      flushing = undefined;
    });
    return flushing;
  };
  const flushMs = options.flushMs ?? 1_000;
  const timer = flushMs > 0 ? setInterval(() => void flush(), flushMs) : undefined;
  timer?.unref();

  return {
    generated(s) {
      add(names.name("g", s.tenantId, s.channel, s.country));
      addAt(s.expiresAtMs, names.name("e", s.tenantId), 1);
    },
    verified(s, outcome) {
      add(names.name("v", s.tenantId, s.channel, s.country, outcome));
      if ((outcome === "verified" || outcome === "attempts_exhausted") && s.expiresAtMs > now()) {
        addAt(s.expiresAtMs, names.name("e", s.tenantId), -1);
      }
    },
    rpc(tenantId, procedure, code, seconds) {
      add(names.name("n", tenantId, procedure, code));
      add(names.name("l", tenantId, procedure, bucketNames[latencyBucketIndex(seconds)] as string));
    },
    rateLimited: (tenantId, limit) => add(names.name("r", tenantId, limit)),
    refused: (tenantId, reason) => add(names.name("x", tenantId, reason)),
    delivery: (tenantId, channel, status) => add(names.name("d", tenantId, channel, status)),
    flush,
    async close() {
      if (timer !== undefined) clearInterval(timer);
      await flush();
      // A flush that started before close may have left counts for this one.
      await flush();
    },
  };
}

/**
 * Counts by minute bucket, waiting for the next flush. The current minute's
 * map is kept at hand, so a count is one clock read and one map update.
 */
function createMinuteCounts(now: () => number) {
  let pending = new Map<number, Map<string, number>>();
  let currentStart = -1;
  let current = new Map<string, number>();
  const mapFor = (startMs: number) => {
    if (startMs === currentStart) return current;
    let map = pending.get(startMs);
    if (map === undefined) {
      map = new Map();
      pending.set(startMs, map);
    }
    return map;
  };
  return {
    add(field: string, amount = 1) {
      const t = now();
      if (t < currentStart || t >= currentStart + minuteMs) {
        const start = bucketStart("minute", t);
        currentStart = -1;
        current = mapFor(start);
        currentStart = start;
      }
      current.set(field, (current.get(field) ?? 0) + amount);
    },
    /** Counts into the minute holding `atMs` (the active-challenge count lives in the minute a code expires). */
    addAt(atMs: number, field: string, amount: number) {
      const map = mapFor(bucketStart("minute", atMs));
      map.set(field, (map.get(field) ?? 0) + amount);
    },
    /** Everything counted so far; counting starts afresh. */
    take() {
      const batch = pending;
      pending = new Map();
      currentStart = -1;
      return batch;
    },
    /** Puts back the counts of a failed flush, except minutes the store would have forgotten by now. */
    putBack(batch: Map<number, Map<string, number>>) {
      for (const [startMs, counts] of batch) {
        if (startMs + retentionMs.minute <= now()) continue;
        const map = mapFor(startMs);
        for (const [field, n] of counts) map.set(field, (map.get(field) ?? 0) + n);
      }
    },
  };
}

// Bucket indexes as counter parts, made once.
const bucketNames = Array.from({ length: 13 }, (_, i) => String(i));
