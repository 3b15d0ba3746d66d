import type { OutboxEntry, OutboxFilter, OutboxStore } from "../../delivery/delivery-store.js";
import type { StoredOutboxEntry } from "./recipient-codec.js";
import { type RedisContext, unavailable } from "./redis-context.js";

/** The development outbox: one capped list, recipients sealed, filtered by a keyed hash. */
export function createRedisOutbox(ctx: RedisContext, maxEntries: number) {
  const { topology, keyPrefix, vault, codec, run } = ctx;
  const outboxKey = `${keyPrefix}outbox`;
  const maxOutbox = maxEntries;
  const store: OutboxStore = {
    async appendOutbox(entry: OutboxEntry, retentionMs: number) {
      // Each entry carries its own expiry, checked on read; the list expires with its newest entry.
      await run(topology.forKey(outboxKey), "otpAppendOutbox", outboxKey, [
        JSON.stringify(codec.sealOutbox(entry, entry.createdAtMs + retentionMs)),
        String(maxOutbox),
        String(retentionMs),
      ]);
    },
    async listOutbox(filter: OutboxFilter, nowMs: number) {
      let raw: string[];
      try {
        raw = await topology.forKey(outboxKey).lrange(outboxKey, 0, maxOutbox - 1);
      } catch (err) {
        throw unavailable(err);
      }
      const found: OutboxEntry[] = [];
      const recipientHashes =
        filter.recipient === undefined
          ? undefined
          : new Set(vault.indexes("outbox-recipient", filter.recipient));
      for (const line of raw) {
        const stored = JSON.parse(line) as StoredOutboxEntry;
        if (filter.tenantId !== undefined && (stored.tenantId ?? "default") !== filter.tenantId)
          continue;
        if (recipientHashes !== undefined && !recipientHashes.has(stored.recipientHash ?? ""))
          continue;
        if (filter.challengeId !== undefined && stored.challengeId !== filter.challengeId) continue;
        if (stored.untilMs !== undefined && nowMs >= stored.untilMs) continue;
        const entry = codec.openOutbox(stored);
        if (entry === undefined) continue; // sealed under a secret no longer configured
        found.push(entry);
        if (found.length >= filter.limit) break;
      }
      return found;
    },
  };
  return store;
}
