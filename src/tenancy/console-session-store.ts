// Declared by the domain that uses it (DESIGN.md): store/redis implements it
// too, and test/contract/console-session-contract.ts holds both to it.

/** Who a console session signed in as. */
export type ConsoleSessionKind = "operator" | "tenant";

/**
 * A signed-in console session, as stored. The session id itself is never
 * stored: records are found by its SHA-256 ({@link hashSessionId}).
 */
export interface ConsoleSessionRecord {
  /** "operator" signed in with ADMIN_TOKEN and sees every tenant; "tenant" with a key, and sees its own. */
  kind: ConsoleSessionKind;
  /** The key's tenant; "" for the operator. */
  tenantId: string;
  /** The key's id (safe to show); "admin" for the operator. */
  keyId: string;
  /**
   * The SHA-256 of the key the session was opened with, so each call can
   * check the key is still live (a revoked key ends its sessions); "" for the operator.
   */
  keyHash: string;
  createdAtMs: number;
  /** The absolute end of the session, however much it is used. */
  expiresAtMs: number;
}

/**
 * Console sessions, shared by every replica. Each record expires when it has
 * not been used for the idle time, and at its absolute `expiresAtMs` at the
 * latest; the store drops it then without being asked.
 */
export interface ConsoleSessionStore {
  /** Stores a new session under the hash of its id, live for `idleMs` (never past `expiresAtMs`). */
  create(idHash: string, record: ConsoleSessionRecord, idleMs: number): Promise<void>;
  /**
   * The live session under this hash, its idle expiry moved to `nowMs + idleMs`
   * (never past its absolute end), as one atomic step; undefined when it is
   * unknown, idle too long or past its absolute end.
   */
  touch(idHash: string, nowMs: number, idleMs: number): Promise<ConsoleSessionRecord | undefined>;
  /** Ends a session; true when it existed. */
  delete(idHash: string): Promise<boolean>;
}

/** How many sessions the memory store keeps before it drops the oldest. */
const memoryMaxSessions = 10_000;

/**
 * The embedded session store, for the in-memory configuration (one process).
 * Expired sessions are dropped as new ones are made; the store holds at most
 * 10,000, dropping the oldest first.
 *
 * @example
 * const sessions = createMemoryConsoleSessionStore();
 */
export function createMemoryConsoleSessionStore(
  clock: () => number = Date.now,
): ConsoleSessionStore {
  const sessions = new Map<string, { record: ConsoleSessionRecord; idleUntilMs: number }>();
  const live = (
    entry: { record: ConsoleSessionRecord; idleUntilMs: number } | undefined,
    nowMs: number,
  ) => entry !== undefined && nowMs < entry.idleUntilMs && nowMs < entry.record.expiresAtMs;
  return {
    async create(idHash, record, idleMs) {
      const nowMs = clock();
      for (const [hash, entry] of sessions) {
        if (!live(entry, nowMs)) sessions.delete(hash);
      }
      while (sessions.size >= memoryMaxSessions) {
        const oldest = sessions.keys().next().value;
        if (oldest === undefined) break;
        sessions.delete(oldest);
      }
      sessions.set(idHash, {
        record: { ...record },
        idleUntilMs: Math.min(nowMs + idleMs, record.expiresAtMs),
      });
    },
    async touch(idHash, nowMs, idleMs) {
      const entry = sessions.get(idHash);
      // Idle time is judged by this process's clock too, as Redis judges it by its own.
      const at = Math.max(nowMs, clock());
      if (entry === undefined || !live(entry, at)) {
        sessions.delete(idHash);
        return undefined;
      }
      entry.idleUntilMs = Math.min(at + idleMs, entry.record.expiresAtMs);
      return { ...entry.record };
    },
    async delete(idHash) {
      return sessions.delete(idHash);
    },
  };
}
