import type { ContextValues } from "@connectrpc/connect";
import type { SecurityEvent } from "../audit/audit-recorder.js";
import type { AuditActor, AuditInput } from "../audit/audit-trail.js";
import { maskAddress } from "../core/mask-address.js";
import { clientIpKey } from "../http/client-ip.js";
import type { ApiKeyRecord } from "../tenancy/admin-store.js";
import { type Caller, callerKey } from "./caller.js";
import { callStateKey } from "./interceptors/error-interceptor.js";

/** Why authentication refused a key that exists: what the audit trail records about its use. */
export type KeyRefusal = "revoked" | "expired" | "deleted" | "tenant-suspended" | "tenant-deleted";

const refusalActions: Record<KeyRefusal, string> = {
  revoked: "key.used_after_revocation",
  expired: "key.used_after_expiry",
  deleted: "key.used_after_deletion",
  "tenant-suspended": "key.used_while_tenant_suspended",
  "tenant-deleted": "key.used_after_tenant_deletion",
};

/** The audit actor of a caller: the operator for ADMIN_TOKEN, a console session, otherwise its key. */
export function actorOf(caller: Caller | undefined): AuditActor {
  // A console session acts for the operator ("admin") or for the key it was opened with.
  if (caller?.viaConsole === true) return { kind: "console-session", id: caller.keyId };
  if (caller === undefined || caller.kind === "admin") return { kind: "operator", id: "admin" };
  if (caller.kind === "anonymous") return { kind: "system", id: "anonymous" };
  return { kind: "api-key", id: caller.keyId };
}

/** Where a call came from, for the trail: its request id and its masked address. */
export function callOrigin(values: ContextValues): Pick<AuditInput, "requestId" | "sourceAddress"> {
  return {
    requestId: values.get(callStateKey)?.requestId ?? "",
    sourceAddress: maskAddress(values.get(clientIpKey)),
  };
}

/**
 * The audit entry of an admin change made by the call whose context values
 * these are: actor, request id and masked address come from the call.
 */
export function adminChange(
  values: ContextValues,
  change: Pick<AuditInput, "tenantId" | "action" | "target"> & { details?: Record<string, string> },
): AuditInput {
  return {
    actor: actorOf(values.get(callerKey)),
    outcome: "success",
    details: {},
    ...callOrigin(values),
    ...change,
  };
}

/** The security event of a refused key: which key, why, from where. */
export function refusedKeyEvent(
  key: ApiKeyRecord,
  why: KeyRefusal,
  procedure: string,
  values: ContextValues | undefined,
): SecurityEvent {
  return {
    actor: { kind: "api-key", id: key.id },
    tenantId: key.tenantId,
    action: refusalActions[why],
    target: key.id,
    outcome: "refused",
    details: { procedure },
    ...(values === undefined ? {} : callOrigin(values)),
  };
}

/** The security event of a call to AdminService without ADMIN_TOKEN; one per source network and minute. */
export function refusedAdminEvent(
  procedure: string,
  values: ContextValues | undefined,
): SecurityEvent {
  const origin =
    values === undefined ? { requestId: "", sourceAddress: "unknown" } : callOrigin(values);
  return {
    actor: { kind: "system", id: "unauthenticated" },
    tenantId: "",
    action: "admin.unauthenticated",
    target: origin.sourceAddress,
    outcome: "refused",
    details: { procedure },
    ...origin,
  };
}
