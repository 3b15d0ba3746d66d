import { parseLimit, type RateLimit } from "./limits.js";
import { type Area, integer, parsed, type Values } from "./schema.js";

/** The audit trail and the bookkeeping of API keys. */
export const auditVariables = {
  AUDIT_RETENTION_DAYS: integer({
    default: 90,
    min: 1,
    max: 3650,
    unit: "days",
    description:
      "How long audit entries are kept; older ones are trimmed from the Redis stream (`XTRIM MINID`) or the memory store and never listed.",
  }),
  AUDIT_MAX_ENTRIES: integer({
    default: 100_000,
    min: 100,
    max: 10_000_000,
    description:
      "The most audit entries kept, whatever their age; the oldest go first (`XADD MAXLEN`). About 400 bytes of Redis memory each.",
  }),
  AUDIT_REFUSAL_BURST: parsed(parseLimit, {
    type: "limit",
    fallback: "20/1m",
    allowed: "`<count>/<window>` (window in `s`, `m`, `h`; 1 s to 24 h), or `off`",
    description:
      "Refusals of one reason for one tenant (rate limits, quotas, refused credentials) within the window that make a burst, audited as `refusals.burst` once per window.",
  }),
  API_KEY_LAST_USED_FLUSH_SECONDS: integer({
    default: 30,
    min: 1,
    max: 3600,
    unit: "s",
    description:
      "How often each process writes the last use of the keys it saw, in one batch; `ListApiKeys` shows last use to within this.",
  }),
};

/** The audit area of the reference. */
export const auditArea: Area = {
  title: "Audit trail",
  summary:
    "The append-only record of admin changes and security events ([Audit trail](audit-trail.md)), and how often the last use of API keys is written.",
  variables: auditVariables,
};

/** The audit part of {@link Config}. */
export interface AuditConfig {
  retentionMs: number;
  maxEntries: number;
  keyUseFlushMs: number;
  /** When refusals count as a burst for the trail; "off" audits none. */
  refusalBurst: RateLimit | "off";
}

/** Reads the audit area. */
export function readAudit(v: Values<typeof auditVariables>): AuditConfig {
  return {
    retentionMs: v.AUDIT_RETENTION_DAYS * 86_400_000,
    maxEntries: v.AUDIT_MAX_ENTRIES,
    keyUseFlushMs: v.API_KEY_LAST_USED_FLUSH_SECONDS * 1000,
    refusalBurst: v.AUDIT_REFUSAL_BURST,
  };
}
