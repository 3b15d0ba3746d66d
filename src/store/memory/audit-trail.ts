import {
  type AuditEntry,
  type AuditFilter,
  type AuditPage,
  type AuditPageRequest,
  type AuditRetention,
  type AuditTrail,
  auditBounds,
  boundAuditInput,
  compareAuditIds,
  encodeAuditCursor,
  matchesAuditFilter,
  resumeAfter,
} from "../../audit/audit-trail.js";

/**
 * The audit trail of a single process (the in-memory store): an array in
 * time order, cut to `maxEntries` and `retentionMs` on every append and read.
 * Ids are "<ms>-<sequence>" like Redis stream ids, so cursors and ordering
 * behave the same in both implementations.
 *
 * @example
 * const trail = createMemoryAuditTrail({ retentionMs: 90 * 86_400_000, maxEntries: 100_000 });
 */
export function createMemoryAuditTrail(
  options: AuditRetention & { now?: () => number },
): AuditTrail {
  const now = options.now ?? Date.now;
  const entries: AuditEntry[] = [];
  const watchers = new Set<(entry: AuditEntry) => void>();
  const claims = new Map<string, number>();
  let lastMs = 0;
  let sequence = 0;
  // Drops what the retention policy no longer keeps; entries are in time order.
  const trim = () => {
    const oldest = now() - options.retentionMs;
    let drop = Math.max(0, entries.length - options.maxEntries);
    while (drop < entries.length && (entries[drop]?.timeMs ?? 0) < oldest) drop++;
    if (drop > 0) entries.splice(0, drop);
  };
  return {
    async append(input) {
      // The clock never runs backwards for ids: a later entry has a later id.
      const ms = Math.max(now(), lastMs);
      sequence = ms === lastMs ? sequence + 1 : 0;
      lastMs = ms;
      const entry: AuditEntry = { ...boundAuditInput(input), id: `${ms}-${sequence}`, timeMs: ms };
      entries.push(entry);
      trim();
      for (const watcher of watchers) watcher(structuredClone(entry));
      return structuredClone(entry);
    },
    async list(filter, page) {
      trim();
      return listEntries(entries, filter, page);
    },
    async watch(filter, onEntry) {
      const watcher = (entry: AuditEntry) => {
        if (matchesAuditFilter(entry, filter)) onEntry(entry);
      };
      watchers.add(watcher);
      return () => watchers.delete(watcher);
    },
    async claimOnce(key, windowMs) {
      const at = now();
      if ((claims.get(key) ?? 0) > at) return false;
      // Expired claims go as new ones come: the map holds at most those of one window.
      for (const [k, until] of claims) if (until <= at) claims.delete(k);
      claims.set(key, at + windowMs);
      return true;
    },
    async close() {
      watchers.clear();
    },
  };
}

// One page from entries kept in time order: scans at most scanPerCall of them.
function listEntries(
  entries: readonly AuditEntry[],
  filter: AuditFilter,
  page: AuditPageRequest,
): AuditPage {
  const oldestFirst = page.oldestFirst === true;
  const after = resumeAfter(page);
  const ordered = oldestFirst ? entries : [...entries].reverse();
  const out: AuditEntry[] = [];
  let scanned = 0;
  let lastScanned: string | undefined;
  for (const entry of ordered) {
    if (after !== undefined) {
      const order = compareAuditIds(entry.id, after);
      if (oldestFirst ? order <= 0 : order >= 0) continue;
    }
    // Past the time range in the reading order: nothing further can match.
    if (!oldestFirst && filter.sinceMs !== undefined && entry.timeMs < filter.sinceMs) break;
    if (oldestFirst && filter.untilMs !== undefined && entry.timeMs >= filter.untilMs) break;
    if (scanned === auditBounds.scanPerCall && lastScanned !== undefined) {
      return { entries: out, nextCursor: encodeAuditCursor(lastScanned, oldestFirst) };
    }
    scanned++;
    lastScanned = entry.id;
    if (!matchesAuditFilter(entry, filter)) continue;
    out.push(structuredClone(entry));
    if (out.length === page.size) {
      return { entries: out, nextCursor: encodeAuditCursor(entry.id, oldestFirst) };
    }
  }
  return { entries: out, nextCursor: undefined };
}
