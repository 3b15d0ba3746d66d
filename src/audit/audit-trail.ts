import { OtpError } from "../core/otp-error.js";

/** Who did something: the operator (ADMIN_TOKEN), an API key, a console session, or the service itself. */
export type AuditActorKind = "operator" | "api-key" | "console-session" | "system";

/** How an audited action ended. */
export type AuditOutcome = "success" | "failure" | "refused";

/** The actor of an entry: its kind and an id that names it without a secret (a key id, a session id). */
export interface AuditActor {
  kind: AuditActorKind;
  id: string;
}

/** What a caller appends: everything but the id and the time, which the trail assigns. */
export interface AuditInput {
  actor: AuditActor;
  /** The tenant the action concerns; empty for service-wide actions. */
  tenantId: string;
  /** Dotted, lower case, for example "tenant.created", "key.revoked", "signin.failed". */
  action: string;
  /** What was acted on, for example a tenant id or a key id; never a secret. */
  target: string;
  outcome: AuditOutcome;
  /** The request id of the call that did it; empty for background work. */
  requestId: string;
  /** The caller's address, masked (see core/mask-address.ts): "203.0.113.0/24". */
  sourceAddress: string;
  /** A few small facts, bounded by {@link auditBounds}; never a secret, code or full recipient. */
  details: Record<string, string>;
}

/** One entry of the trail. */
export interface AuditEntry extends AuditInput {
  /** Ordered like the time: "<ms>-<sequence>". */
  id: string;
  timeMs: number;
}

/** Which entries a reader wants; every field is optional and they combine with AND. */
export interface AuditFilter {
  tenantId?: string;
  /** Entries whose action starts with this, such as "key." or "tenant.suspended". */
  actionPrefix?: string;
  actorKind?: AuditActorKind;
  actorId?: string;
  /** From this time on, inclusive (Unix ms). */
  sinceMs?: number;
  /** Before this time, exclusive (Unix ms). */
  untilMs?: number;
}

/** One page request: how many entries, where to go on from, and which way. */
export interface AuditPageRequest {
  size: number;
  /** The `nextCursor` of the previous page, opaque to callers. */
  cursor?: string;
  /** Oldest first (an export) instead of newest first (a listing). */
  oldestFirst?: boolean;
}

/** A page of entries and, while more may follow, the cursor of the next page. */
export interface AuditPage {
  entries: AuditEntry[];
  nextCursor: string | undefined;
}

/** Unsubscribes a watcher. */
export type StopWatching = () => void;

/**
 * The append-only audit trail: who changed what, and which security events
 * happened. There is no update and no delete: entries leave only by the
 * retention policy (a time limit and a length limit) of the implementation.
 * Implementations: the memory store (store/memory/audit-trail.ts) and Redis
 * Streams (store/redis/audit-trail.ts), held to the same contract
 * (test/contract/audit-trail-contract.ts).
 */
export interface AuditTrail {
  /** Appends one entry, bounded by {@link boundAuditInput}, and returns it as stored. */
  append(input: AuditInput): Promise<AuditEntry>;
  /**
   * A page of the entries that match, newest first unless asked otherwise.
   * Each call reads a bounded number of entries; a page may hold fewer than
   * asked while `nextCursor` says more may follow.
   */
  list(filter: AuditFilter, page: AuditPageRequest): Promise<AuditPage>;
  /** Calls `onEntry` for each matching entry appended from now on, by any replica. */
  watch(filter: AuditFilter, onEntry: (entry: AuditEntry) => void): Promise<StopWatching>;
  /**
   * True for the first claim of `key` within `windowMs`, on any replica; false
   * for every later one until the window has passed. Security events use it
   * so that a flood writes one entry per window, however many replicas see it.
   */
  claimOnce(key: string, windowMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** The bounds every entry is cut to before it is stored. */
export const auditBounds = {
  actorId: 64,
  tenantId: 64,
  action: 64,
  target: 128,
  requestId: 64,
  sourceAddress: 64,
  detailCount: 8,
  detailKey: 32,
  detailValue: 200,
  pageSize: { max: 500, default: 50 },
  /** The most entries one list call reads before it hands back a cursor. */
  scanPerCall: 5000,
} as const;

// Control characters, separators and bidirectional overrides become "?".
const unprintable = /[\p{Cc}\p{Cs}\p{Zl}\p{Zp}\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu;

/** Cuts text to `max` code points and replaces what no log line should hold. */
function clip(text: string, max: number): string {
  const cut = text.length > max * 2 ? text.slice(0, max * 2) : text;
  return [...cut.replace(unprintable, "?")].slice(0, max).join("");
}

const actorKinds: ReadonlySet<string> = new Set([
  "operator",
  "api-key",
  "console-session",
  "system",
]);
const outcomes: ReadonlySet<string> = new Set(["success", "failure", "refused"]);

/**
 * Bounds an entry before it is stored: every text cut to its limit, control
 * characters replaced, at most {@link auditBounds}.detailCount details. The
 * trail's own callers are the service's code, so nothing is refused: an
 * event is never lost to a long value.
 *
 * @example
 * boundAuditInput({ ...input, target: "x".repeat(1000) }).target.length; // 128
 */
export function boundAuditInput(input: AuditInput): AuditInput {
  const details: Record<string, string> = {};
  for (const [key, value] of Object.entries(input.details).slice(0, auditBounds.detailCount)) {
    details[clip(key, auditBounds.detailKey)] = clip(String(value), auditBounds.detailValue);
  }
  return {
    actor: {
      kind: actorKinds.has(input.actor.kind) ? input.actor.kind : "system",
      id: clip(input.actor.id, auditBounds.actorId),
    },
    tenantId: clip(input.tenantId, auditBounds.tenantId),
    action: clip(input.action, auditBounds.action),
    target: clip(input.target, auditBounds.target),
    outcome: outcomes.has(input.outcome) ? input.outcome : "failure",
    requestId: clip(input.requestId, auditBounds.requestId),
    sourceAddress: clip(input.sourceAddress, auditBounds.sourceAddress),
    details,
  };
}

/** True when an entry matches every field the filter sets. */
export function matchesAuditFilter(entry: AuditEntry, filter: AuditFilter): boolean {
  return (
    (filter.tenantId === undefined || entry.tenantId === filter.tenantId) &&
    (filter.actionPrefix === undefined || entry.action.startsWith(filter.actionPrefix)) &&
    (filter.actorKind === undefined || entry.actor.kind === filter.actorKind) &&
    (filter.actorId === undefined || entry.actor.id === filter.actorId) &&
    (filter.sinceMs === undefined || entry.timeMs >= filter.sinceMs) &&
    (filter.untilMs === undefined || entry.timeMs < filter.untilMs)
  );
}

/** The time part of an entry id ("<ms>-<sequence>"). */
export function auditIdTime(id: string): number {
  return Number(id.slice(0, id.indexOf("-")));
}

/** Orders two entry ids: negative when `a` came first. */
export function compareAuditIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split("-").map(Number);
  const [bm = 0, bs = 0] = b.split("-").map(Number);
  return am === bm ? as - bs : am - bm;
}

const cursorPattern = /^(n|o)(\d{1,16}-\d{1,16})$/;

/** Makes the opaque cursor that resumes after entry `id` in the given order. */
export function encodeAuditCursor(id: string, oldestFirst: boolean): string {
  return Buffer.from(`${oldestFirst ? "o" : "n"}${id}`).toString("base64url");
}

/**
 * Reads a cursor made by {@link encodeAuditCursor}: the id to resume after, or
 * undefined when the cursor is not one of ours or belongs to the other order.
 */
export function decodeAuditCursor(cursor: string, oldestFirst: boolean): string | undefined {
  if (cursor.length > 64) return undefined;
  const match = cursorPattern.exec(Buffer.from(cursor, "base64url").toString("latin1"));
  if (match === null || (match[1] === "o") !== oldestFirst) return undefined;
  return match[2];
}

/**
 * The id a page request resumes after, or undefined for the first page;
 * `PAGE_TOKEN_INVALID` when the cursor is not one this service handed out
 * for this order.
 */
export function resumeAfter(page: AuditPageRequest): string | undefined {
  if (page.cursor === undefined || page.cursor === "") return undefined;
  const id = decodeAuditCursor(page.cursor, page.oldestFirst === true);
  if (id === undefined) {
    throw new OtpError("PAGE_TOKEN_INVALID", "page_token is not one this service handed out", {
      field: "page_token",
    });
  }
  return id;
}

/** Options every implementation takes: how long entries are kept and how many at most. */
export interface AuditRetention {
  /** Entries older than this are dropped (AUDIT_RETENTION_DAYS). */
  retentionMs: number;
  /** The most entries kept (AUDIT_MAX_ENTRIES); the oldest go first. */
  maxEntries: number;
}
