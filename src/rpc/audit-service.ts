import { toJsonString } from "@bufbuild/protobuf";
import { type Timestamp, timestampDate, timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext, ServiceImpl } from "@connectrpc/connect";
import type { AdminService } from "../../gen/otp/v1/admin_pb.js";
import {
  AuditActorKind,
  type AuditEvent,
  AuditEventSchema,
  type AuditFilter as AuditFilterProto,
  AuditOutcome,
} from "../../gen/otp/v1/audit_pb.js";
import type {
  AuditActorKind as ActorKindName,
  AuditEntry,
  AuditFilter,
  AuditTrail,
  AuditOutcome as OutcomeName,
} from "../audit/audit-trail.js";
import { auditBounds } from "../audit/audit-trail.js";
import { watchAudit } from "../audit/watch-audit.js";
import { OtpError } from "../core/otp-error.js";
import { callerKey } from "./caller.js";

const actorKinds: Record<ActorKindName, AuditActorKind> = {
  operator: AuditActorKind.OPERATOR,
  "api-key": AuditActorKind.API_KEY,
  "console-session": AuditActorKind.CONSOLE_SESSION,
  system: AuditActorKind.SYSTEM,
};
const outcomes: Record<OutcomeName, AuditOutcome> = {
  success: AuditOutcome.SUCCESS,
  failure: AuditOutcome.FAILURE,
  refused: AuditOutcome.REFUSED,
};

/** An audit entry as the API shows it. */
export function auditEntryToProto(entry: AuditEntry): AuditEvent {
  return {
    $typeName: "otp.v1.AuditEvent",
    id: entry.id,
    time: timestampFromMs(entry.timeMs),
    actorKind: actorKinds[entry.actor.kind] ?? AuditActorKind.UNSPECIFIED,
    actorId: entry.actor.id,
    tenantId: entry.tenantId,
    action: entry.action,
    target: entry.target,
    outcome: outcomes[entry.outcome] ?? AuditOutcome.UNSPECIFIED,
    requestId: entry.requestId,
    sourceAddress: entry.sourceAddress,
    details: { ...entry.details },
  };
}

const filterInvalid = (field: string, why: string) =>
  new OtpError("AUDIT_FILTER_INVALID", why, { field });

function boundedFilterText(value: string, field: string): string | undefined {
  if (value.length > 64) throw filterInvalid(field, `${field} must be at most 64 characters`);
  return value === "" ? undefined : value;
}

function timeOf(ts: Timestamp | undefined): number | undefined {
  return ts === undefined ? undefined : timestampDate(ts).getTime();
}

/**
 * The filter a call asks for, checked and bound to what the caller may see:
 * the operator sees every tenant; a tenant's admin-read key only its own,
 * and another tenant's id reads as a tenant that does not exist; an
 * anonymous development caller nothing.
 */
export function auditFilterFromProto(
  filter: AuditFilterProto | undefined,
  ctx: HandlerContext,
): AuditFilter {
  const caller = ctx.values.get(callerKey);
  // A development caller without a key is no reader of the trail.
  if (caller?.kind === "anonymous") {
    throw new OtpError("PERMISSION_DENIED", "this key may not make this call", {
      metadata: { need: "admin-read" },
    });
  }
  const asked = boundedFilterText(filter?.tenantId ?? "", "tenant_id");
  let tenantId = asked;
  if (caller !== undefined && caller.kind !== "admin") {
    if (asked !== undefined && asked !== caller.tenantId) {
      throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
    }
    tenantId = caller.tenantId;
  }
  const kind = filter?.actorKind ?? AuditActorKind.UNSPECIFIED;
  const actorKind = (Object.entries(actorKinds).find(([, v]) => v === kind)?.[0] ?? undefined) as
    | ActorKindName
    | undefined;
  if (kind !== AuditActorKind.UNSPECIFIED && actorKind === undefined) {
    throw filterInvalid("actor_kind", "actor_kind is not a known kind");
  }
  const sinceMs = timeOf(filter?.since);
  const untilMs = timeOf(filter?.until);
  if (sinceMs !== undefined && untilMs !== undefined && sinceMs >= untilMs) {
    throw filterInvalid("until", "until must be after since");
  }
  const out: AuditFilter = {};
  if (tenantId !== undefined) out.tenantId = tenantId;
  const actionPrefix = boundedFilterText(filter?.actionPrefix ?? "", "action_prefix");
  if (actionPrefix !== undefined) out.actionPrefix = actionPrefix;
  if (actorKind !== undefined) out.actorKind = actorKind;
  const actorId = boundedFilterText(filter?.actorId ?? "", "actor_id");
  if (actorId !== undefined) out.actorId = actorId;
  if (sinceMs !== undefined) out.sinceMs = sinceMs;
  if (untilMs !== undefined) out.untilMs = untilMs;
  return out;
}

/** What the audit handlers read from. */
export interface AuditHandlerDeps {
  trail: AuditTrail;
  /** Aborts when the server shuts down: open watches end with SHUTTING_DOWN. */
  shutdown?: AbortSignal;
}

type AuditHandlers = Pick<
  ServiceImpl<typeof AdminService>,
  "listAuditEvents" | "watchAuditEvents" | "exportAuditEvents"
>;

/** ListAuditEvents, WatchAuditEvents and ExportAuditEvents. */
export function createAuditHandlers(deps: AuditHandlerDeps): AuditHandlers {
  return {
    async listAuditEvents(req, ctx) {
      const size = req.pageSize === 0 ? auditBounds.pageSize.default : req.pageSize;
      if (!Number.isInteger(size) || size < 1 || size > auditBounds.pageSize.max) {
        throw new OtpError(
          "PAGE_SIZE_INVALID",
          `page_size must be 0 (${auditBounds.pageSize.default}) or 1 to ${auditBounds.pageSize.max}`,
          { field: "page_size" },
        );
      }
      if (req.pageToken.length > 64) {
        throw new OtpError("PAGE_TOKEN_INVALID", "page_token is not one this service handed out", {
          field: "page_token",
        });
      }
      const filter = auditFilterFromProto(req.filter, ctx);
      const page = await deps.trail.list(filter, { size, cursor: req.pageToken });
      return {
        events: page.entries.map(auditEntryToProto),
        nextPageToken: page.nextCursor ?? "",
      };
    },

    async *watchAuditEvents(req, ctx) {
      const { sinceMs: _since, untilMs: _until, ...filter } = auditFilterFromProto(req.filter, ctx);
      const entries = watchAudit(deps.trail, filter, {
        signal: ctx.signal,
        shutdown: deps.shutdown,
      });
      for await (const entry of entries) yield { event: auditEntryToProto(entry) };
    },

    async *exportAuditEvents(req, ctx) {
      const filter = auditFilterFromProto(req.filter, ctx);
      let cursor: string | undefined;
      do {
        if (ctx.signal.aborted) return;
        const page = await deps.trail.list(filter, {
          size: auditBounds.pageSize.max,
          cursor,
          oldestFirst: true,
        });
        if (page.entries.length > 0) {
          const lines = page.entries.map(
            (entry) => `${toJsonString(AuditEventSchema, auditEntryToProto(entry))}\n`,
          );
          yield { jsonLines: lines.join("") };
        }
        cursor = page.nextCursor;
      } while (cursor !== undefined);
    },
  };
}
