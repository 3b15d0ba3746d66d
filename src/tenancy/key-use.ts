import type { AdminStore } from "./admin-store.js";

/** Records when each key was last used, in process memory, and writes it to the store in batches. */
export interface KeyUseRecorder {
  /** Notes that a key was used now: a map write, no store call. */
  touch(keyId: string): void;
  /** The last use this process saw and has not yet written, if any. */
  pending(keyId: string): number | undefined;
  /** Writes every pending use in one batch. */
  flush(): Promise<void>;
  /** Stops the timer and writes what is pending. */
  close(): Promise<void>;
}

/** Options for {@link createKeyUseRecorder}. */
export interface KeyUseOptions {
  store: Pick<AdminStore, "recordKeyUses">;
  /** How often pending uses are written (API_KEY_LAST_USED_FLUSH_SECONDS). */
  flushEveryMs: number;
  now?: () => number;
  /** Told when a batch could not be written; its uses are kept for the next one. */
  onError?: (err: unknown) => void;
}

/**
 * Keeps the last use of every key off the hot path: an authenticated call
 * only sets a number in a map; a timer writes the map to the store in one
 * batch every `flushEveryMs`, so each key costs at most one write per period
 * per process, whatever the call rate, and a call never waits for it.
 *
 * @example
 * const uses = createKeyUseRecorder({ store: admin, flushEveryMs: 30_000 });
 * uses.touch("otp_sk_1a2b3c4d");
 */
export function createKeyUseRecorder(options: KeyUseOptions): KeyUseRecorder {
  const now = options.now ?? Date.now;
  let uses = new Map<string, number>();
  let flushing: Promise<void> | undefined;
  const flush = async (): Promise<void> => {
    if (flushing !== undefined) return flushing;
    if (uses.size === 0) return;
    const batch = uses;
    uses = new Map();
    flushing = options.store
      .recordKeyUses(batch)
      .catch((err: unknown) => {
        // Kept for the next batch, unless a newer use came meanwhile.
        for (const [id, at] of batch) if (!uses.has(id)) uses.set(id, at);
        options.onError?.(err);
      })
      .finally(() => {
        flushing = undefined;
      });
    return flushing;
  };
  const timer = setInterval(() => void flush(), options.flushEveryMs);
  timer.unref();
  return {
    touch(keyId) {
      uses.set(keyId, now());
    },
    pending: (keyId) => uses.get(keyId),
    flush,
    async close() {
      clearInterval(timer);
      await flushing;
      await flush();
    },
  };
}
