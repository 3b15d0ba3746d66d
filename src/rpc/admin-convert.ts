import type { HandlerContext } from "@connectrpc/connect";
import { ApiKeyKind, Scope } from "../../gen/otp/v1/admin_pb.js";
import { boundedText } from "../core/bounded-text.js";
import { OtpError } from "../core/otp-error.js";
import type { AdminStore, ApiKeyRecord, ScopeName, TenantRecord } from "../tenancy/admin-store.js";
import { callerKey } from "./caller.js";
import { optionalTimestamp } from "./convert.js";

// What the AdminService handlers share: bounds, converters and lookups.

/** Scope values of the API by their domain names, and back. */
export const scopeNames: Record<number, ScopeName> = {
  [Scope.GENERATE]: "generate",
  [Scope.VERIFY]: "verify",
  [Scope.SEND]: "send",
  [Scope.TOTP]: "totp",
  [Scope.ADMIN_READ]: "admin-read",
  [Scope.ADMIN]: "admin",
};
/** The API value of each scope. */
export const scopeValues = Object.fromEntries(
  Object.entries(scopeNames).map(([k, v]) => [v, Number(k)]),
) as Record<ScopeName, Scope>;

/** API_KEY_INVALID, naming the field at fault. */
export const invalidKey = (why: string, field: string) =>
  new OtpError("API_KEY_INVALID", why, { field });

/** The bounds of what AdminService stores from a caller. */
export const adminLimits = {
  tenantName: { min: 1, max: 100 },
  keyName: { min: 0, max: 100 },
  /** More entries than known scopes can only be repeats: such a list is refused, not deduplicated. */
  scopes: Object.keys(scopeNames).length,
  allowedOrigins: 20,
  /** The furthest expiry a key may be given: ten years. */
  keyLifetimeMs: 10 * 366 * 86_400_000,
} as const;

/** A tenant as the API shows it. */
export function tenantToProto(t: TenantRecord) {
  return {
    id: t.id,
    name: t.name,
    createdAt: optionalTimestamp(t.createdAtMs),
    suspended: (t.suspendedAtMs ?? 0) > 0,
    suspendedAt: optionalTimestamp(t.suspendedAtMs ?? 0),
  };
}

/** A key as the API shows it, without its secret. */
export function keyToProto(k: ApiKeyRecord) {
  return {
    id: k.id,
    tenantId: k.tenantId,
    kind: k.kind === "secret" ? ApiKeyKind.SECRET : ApiKeyKind.PUBLISHABLE,
    scopes: k.scopes.map((s) => scopeValues[s]),
    allowedOrigins: k.allowedOrigins,
    name: k.name,
    createdAt: optionalTimestamp(k.createdAtMs),
    revokedAt: optionalTimestamp(k.revokedAtMs),
    expiresAt: optionalTimestamp(k.expiresAtMs ?? 0),
    lastUsedAt: optionalTimestamp(k.lastUsedAtMs ?? 0),
  };
}

/** The tenant with this id, or TENANT_NOT_FOUND. */
export async function tenantOrThrow(admin: AdminStore, id: string): Promise<TenantRecord> {
  const tenant = id === "" ? undefined : await admin.getTenant(id);
  if (tenant === undefined) throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
  return tenant;
}

/** A tenant name, checked: TENANT_NAME_INVALID when out of bounds. */
export function tenantName(raw: string): string {
  const name = boundedText(raw, adminLimits.tenantName);
  if (name === undefined) {
    throw new OtpError(
      "TENANT_NAME_INVALID",
      "name must be 1 to 100 characters without control characters",
      { field: "name" },
    );
  }
  return name;
}

/**
 * For a tenant's admin key (or its console session), refuses a key of
 * another tenant as a key that does not exist; the operator reaches every key.
 */
export async function ownKeyOrThrow(
  admin: AdminStore,
  ctx: HandlerContext,
  keyId: string,
): Promise<void> {
  const caller = ctx.values.get(callerKey);
  if (caller?.kind === "admin") return;
  const own = await admin.listApiKeys(caller?.tenantId ?? "");
  if (!own.some((k) => k.id === keyId)) {
    throw new OtpError("API_KEY_NOT_FOUND", "no key has this id");
  }
}
