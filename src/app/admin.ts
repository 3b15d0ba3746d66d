import { type AuditRecorder, createAuditRecorder } from "../audit/audit-recorder.js";
import type { AuditInput, AuditTrail } from "../audit/audit-trail.js";
import type { KeyExpiryWatch } from "../audit/key-expiry.js";
import type { AuditConfig } from "../config/index.js";
import { createMemoryAuditTrail } from "../store/memory/audit-trail.js";
import { createRedisAdminStore } from "../store/redis/admin-store.js";
import { createRedisAuditTrail } from "../store/redis/audit-trail.js";
import { createRedisChangeFeed } from "../store/redis/change-feed.js";
import type { Logger } from "../telemetry/logger.js";
import { type AdminStore, createMemoryAdminStore } from "../tenancy/admin-store.js";
import { withKeyCache } from "../tenancy/cached-admin-store.js";
import { type ChangeFeed, createLocalChangeFeed } from "../tenancy/change-feed.js";
import { createKeyUseRecorder, type KeyUseRecorder } from "../tenancy/key-use.js";
import type { OpenedStore } from "./open-store.js";

// How long a replica trusts a key it looked up, behind the change feed that
// tells it of revocations at once; and how long it remembers a key it did not find.
const keyCache = { ttlMs: 30_000, missTtlMs: 5_000, max: 10_000 };

/** Tenants, keys and the audit trail, opened beside the store. */
export interface AdminParts {
  admin: AdminStore;
  feed: ChangeFeed;
  trail: AuditTrail;
  /** Appends admin changes and (rate-limited) security events; the console's sign-in reports through it too. */
  audit: AuditRecorder;
  /** The last use of keys, kept in memory and written in batches. */
  keyUses: KeyUseRecorder;
  /** Audits keys as their expiry passes; set once the event queues are open (app.ts). */
  keyExpiry?: KeyExpiryWatch;
  /** Writes pending last uses and closes the trail's watcher and the feed. */
  close(): Promise<void>;
}

/**
 * Opens tenants and API keys beside the store, and the audit trail. Keys are
 * resolved from process memory; a revocation, a deletion or a change to a
 * tenant reaches every replica through the change feed (see
 * tenancy/cached-admin-store.ts). The trail is a Redis Stream with Redis, an
 * array in memory otherwise.
 */
export async function openAdmin(
  opened: OpenedStore,
  options: {
    audit: AuditConfig;
    logger: Logger;
    now: () => number;
    /** Told of every entry written to the trail, to show it in the activity feed. */
    onAudit?: (entry: AuditInput) => void;
  },
): Promise<AdminParts> {
  const { redis } = opened;
  const feed =
    redis === undefined
      ? createLocalChangeFeed()
      : createRedisChangeFeed(redis.topology, redis.keyPrefix);
  const admin = await withKeyCache(
    redis === undefined
      ? createMemoryAdminStore({ now: options.now })
      : createRedisAdminStore({ topology: redis.topology, keyPrefix: redis.keyPrefix }),
    feed,
    keyCache,
  );
  const retention = {
    retentionMs: options.audit.retentionMs,
    maxEntries: options.audit.maxEntries,
  };
  const trail =
    redis === undefined
      ? createMemoryAuditTrail({ ...retention, now: options.now })
      : createRedisAuditTrail({ ...retention, ...redis, now: options.now });
  const onAudit = options.onAudit;
  const audit = createAuditRecorder({
    trail:
      onAudit === undefined
        ? trail
        : {
            append: async (input) => {
              const entry = await trail.append(input);
              onAudit(input);
              return entry;
            },
            claimOnce: (key, windowMs) => trail.claimOnce(key, windowMs),
          },
    // The message only: a driver error hangs the command's arguments on itself.
    onError: (err) => options.logger.error({ cause: messageOf(err) }, "audit entry not written"),
  });
  const keyUses = createKeyUseRecorder({
    store: admin,
    flushEveryMs: options.audit.keyUseFlushMs,
    now: options.now,
    onError: (err) =>
      options.logger.warn({ cause: messageOf(err) }, "last use of keys not written"),
  });
  return {
    admin,
    feed,
    trail,
    audit,
    keyUses,
    async close() {
      await keyUses.close();
      await trail.close();
      await feed.close();
    },
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
