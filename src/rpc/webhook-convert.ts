import { timestampFromMs } from "@bufbuild/protobuf/wkt";
import type { HandlerContext } from "@connectrpc/connect";
import type { Event, WebhookAttempt, WebhookEndpoint } from "../../gen/otp/v1/webhooks_pb.js";
import { OtpError } from "../core/otp-error.js";
import type { ServiceEvent } from "../events/event-types.js";
import type { EndpointView } from "../events/webhook-admin.js";
import type { WebhookAttemptRecord } from "../events/webhook-store.js";
import { callerKey } from "./caller.js";

/** An endpoint as the API shows it: never a secret, sealed or not. */
export function endpointToProto(e: EndpointView): WebhookEndpoint {
  return {
    $typeName: "otp.v1.WebhookEndpoint",
    id: e.id,
    tenantId: e.tenantId,
    url: e.url,
    eventTypes: [...e.eventTypes],
    description: e.description,
    secrets: e.secrets.map((s) => ({
      $typeName: "otp.v1.WebhookSecret",
      id: s.id,
      createdAt: timestampFromMs(s.createdAtMs),
      ...(s.expiresAtMs === 0 ? {} : { expiresAt: timestampFromMs(s.expiresAtMs) }),
    })),
    createdAt: timestampFromMs(e.createdAtMs),
    disabled: e.disabledAtMs !== 0,
    ...(e.disabledAtMs === 0 ? {} : { disabledAt: timestampFromMs(e.disabledAtMs) }),
    disabledReason: e.disabledReason,
    consecutiveFailures: e.health.consecutiveFailures,
  };
}

/** One delivery attempt as the API shows it. */
export function attemptToProto(a: WebhookAttemptRecord): WebhookAttempt {
  return {
    $typeName: "otp.v1.WebhookAttempt",
    messageId: a.messageId,
    eventType: a.eventType,
    attempt: a.attempt,
    time: timestampFromMs(a.atMs),
    httpStatus: a.httpStatus,
    outcome: a.outcome,
    durationMs: a.durationMs,
    error: a.error,
  };
}

/** An event as WatchEvents streams it. */
export function eventToProto(e: ServiceEvent): Event {
  return {
    $typeName: "otp.v1.Event",
    id: e.id,
    type: e.type,
    tenantId: e.tenantId,
    time: timestampFromMs(e.timeMs),
    data: { ...e.data },
  };
}

/**
 * The tenant a read is bound to: the operator reads the one asked for (or
 * all, when `allowAll` and none is asked); a tenant's admin-read key only its
 * own, another tenant's id reading as one that does not exist; an anonymous
 * development caller nothing.
 */
export function readableTenant(
  ctx: HandlerContext,
  asked: string,
  allowAll: boolean,
): string | undefined {
  const caller = ctx.values.get(callerKey);
  if (caller?.kind === "anonymous") {
    throw new OtpError("PERMISSION_DENIED", "this key may not make this call", {
      metadata: { need: "admin-read" },
    });
  }
  if (asked.length > 64) throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
  if (caller !== undefined && caller.kind !== "admin") {
    if (asked !== "" && asked !== caller.tenantId) {
      throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
    }
    return caller.tenantId;
  }
  if (asked === "" && !allowAll) throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
  return asked === "" ? undefined : asked;
}

/**
 * The tenant a change is bound to: undefined for the operator (any
 * endpoint), the caller's own for a tenant's admin key, so another tenant's
 * endpoint reads as one that does not exist.
 */
export function changeScope(ctx: HandlerContext): string | undefined {
  const caller = ctx.values.get(callerKey);
  return caller === undefined || caller.kind === "admin" ? undefined : caller.tenantId;
}
