import type { AuditRecorder } from "./audit-recorder.js";

/** The due-queue operations the watch needs (events/due-queue.ts has the queue). */
export interface KeyExpiryQueue {
  add(items: readonly { id: string; body: string; dueMs: number }[], nowMs: number): Promise<void>;
  claim(nowMs: number, limit: number): Promise<{ id: string; body: string; claim: number }[]>;
  complete(id: string, claim: number, nowMs: number, keepMs: number): Promise<boolean>;
  retry(id: string, claim: number, dueMs: number): Promise<boolean>;
}

/** A key's state when its expiry comes, read from the admin store. */
export interface ExpiringKey {
  id: string;
  tenantId: string;
  expiresAtMs?: number;
  revokedAtMs: number;
  deletedAtMs?: number;
}

/** Options for {@link createKeyExpiryWatch}. */
export interface KeyExpiryWatchOptions {
  queue: KeyExpiryQueue;
  audit: Pick<AuditRecorder, "record">;
  /** The key as stored now, or undefined when it is gone. */
  findKey: (tenantId: string, keyId: string) => Promise<ExpiringKey | undefined>;
  pollMs: number;
  now?: () => number;
  onError?: (err: unknown) => void;
}

/** Audits API keys as their expiry passes (see {@link createKeyExpiryWatch}). */
export interface KeyExpiryWatch {
  /** Sets a timer for a key made with an expiry. */
  schedule(key: { id: string; tenantId: string; expiresAtMs: number }): Promise<void>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Writes `key.expired` to the audit trail when a key's expiry passes, so the
 * trail shows a key going out of use even when nobody presents it again.
 * Each key with an expiry gets a timer in a durable queue shared by every
 * replica; whichever replica claims it writes the entry, once. A key revoked,
 * deleted or gone before its expiry writes nothing (its revocation or
 * deletion is in the trail already). Keys are refused at their expiry by the
 * key cache in every process, whether or not this entry is written yet.
 *
 * @example
 * const watch = createKeyExpiryWatch({ queue, audit, findKey, pollMs: 1000 });
 * watch.start();
 * await watch.schedule({ id: key.id, tenantId: key.tenantId, expiresAtMs });
 */
export function createKeyExpiryWatch(options: KeyExpiryWatchOptions): KeyExpiryWatch {
  const now = options.now ?? Date.now;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const poll = async () => {
    for (const item of await options.queue.claim(now(), 50)) {
      try {
        const due = JSON.parse(item.body) as {
          keyId: string;
          tenantId: string;
          expiresAtMs: number;
        };
        const key = await options.findKey(due.tenantId, due.keyId);
        if (key !== undefined && stillExpiring(key, due.expiresAtMs)) {
          await options.audit.record({
            actor: { kind: "system", id: "key-expiry" },
            tenantId: key.tenantId,
            action: "key.expired",
            target: key.id,
            outcome: "success",
            requestId: "",
            sourceAddress: "unknown",
            details: { expires_at: new Date(due.expiresAtMs).toISOString() },
          });
        }
        await options.queue.complete(item.id, item.claim, now(), 0);
      } catch (err) {
        options.onError?.(err);
        await options.queue.retry(item.id, item.claim, now() + 5_000).catch(() => false);
      }
    }
  };
  const tick = () => {
    running ??= poll()
      .catch((err: unknown) => options.onError?.(err))
      .finally(() => {
        running = undefined;
      });
  };
  return {
    async schedule(key) {
      const body = JSON.stringify({
        keyId: key.id,
        tenantId: key.tenantId,
        expiresAtMs: key.expiresAtMs,
      });
      await options.queue.add([{ id: `key:${key.id}`, body, dueMs: key.expiresAtMs }], now());
    },
    start() {
      timer ??= setInterval(tick, options.pollMs);
      timer.unref();
    },
    async stop() {
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

// Still live, and still meant to expire when the timer says.
function stillExpiring(key: ExpiringKey, dueExpiresAtMs: number): boolean {
  return (
    key.revokedAtMs === 0 && (key.deletedAtMs ?? 0) === 0 && key.expiresAtMs === dueExpiresAtMs
  );
}
