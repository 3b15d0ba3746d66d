import { randomUUID } from "node:crypto";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AdminService,
  ApiKeyKind,
  type CreateApiKeyRequest,
  Scope,
} from "../../gen/otp/v1/admin_pb.js";
import { boundedText } from "../core/bounded-text.js";
import { OtpError } from "../core/otp-error.js";
import { webOrigin, webOriginMaxLength } from "../core/web-origin.js";
import type { AdminStore, ApiKeyRecord, ScopeName, TenantRecord } from "../tenancy/admin-store.js";
import { generateApiKey } from "../tenancy/api-key.js";
import type { UsageStore } from "../tenancy/limit-store.js";
import { ownTenantOrThrow, type TenantQuota, tenantOrThrow, usageHandlers } from "./admin-usage.js";
import { callerKey } from "./caller.js";
import { optionalTimestamp } from "./convert.js";

export type { TenantQuota } from "./admin-usage.js";

const scopeNames: Record<number, ScopeName> = {
  [Scope.GENERATE]: "generate",
  [Scope.VERIFY]: "verify",
  [Scope.SEND]: "send",
  [Scope.TOTP]: "totp",
  [Scope.ADMIN_READ]: "admin-read",
  [Scope.ADMIN]: "admin",
};
const scopeValues = Object.fromEntries(
  Object.entries(scopeNames).map(([k, v]) => [v, Number(k)]),
) as Record<ScopeName, Scope>;

const invalidKey = (why: string, field: string) => new OtpError("API_KEY_INVALID", why, { field });

/** The bounds of what AdminService stores from a caller. */
export const adminLimits = {
  tenantName: { min: 1, max: 100 },
  keyName: { min: 0, max: 100 },
  /** More entries than known scopes can only be repeats: such a list is refused, not deduplicated. */
  scopes: Object.keys(scopeNames).length,
  allowedOrigins: 20,
} as const;

function tenantToProto(t: TenantRecord) {
  return { id: t.id, name: t.name, createdAt: optionalTimestamp(t.createdAtMs) };
}

function keyToProto(k: ApiKeyRecord) {
  return {
    id: k.id,
    tenantId: k.tenantId,
    kind: k.kind === "secret" ? ApiKeyKind.SECRET : ApiKeyKind.PUBLISHABLE,
    scopes: k.scopes.map((s) => scopeValues[s]),
    allowedOrigins: k.allowedOrigins,
    name: k.name,
    createdAt: optionalTimestamp(k.createdAtMs),
    revokedAt: optionalTimestamp(k.revokedAtMs),
  };
}

/**
 * The AdminService handlers: tenants and their keys. The auth interceptor
 * has already checked the credential before any of these run: the admin
 * credential (or the operator's console session) reaches every tenant; a
 * key with the admin scope (or its console session) only its own, and
 * another tenant's ids answer as unknown.
 */
export function createAdminHandlers(
  admin: AdminStore,
  store: Pick<UsageStore, "getUsage">,
  now: () => number = Date.now,
  quotas: readonly TenantQuota[] = [],
): ServiceImpl<typeof AdminService> {
  return {
    ...tenantHandlers(admin, now),
    ...keyHandlers(admin, now),
    ...usageHandlers(admin, store, now, quotas),
  };
}

type AdminHandlers = ServiceImpl<typeof AdminService>;

// CreateTenant, ListTenants.
function tenantHandlers(
  admin: AdminStore,
  now: () => number,
): Pick<AdminHandlers, "createTenant" | "listTenants"> {
  return {
    async createTenant(req) {
      const name = boundedText(req.name, adminLimits.tenantName);
      if (name === undefined) {
        throw new OtpError(
          "TENANT_NAME_INVALID",
          "name must be 1 to 100 characters without control characters",
          { field: "name" },
        );
      }
      const tenant = {
        id: `ten_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
        name,
        createdAtMs: now(),
      };
      await admin.createTenant(tenant);
      return { tenant: tenantToProto(tenant) };
    },

    async listTenants(_req, ctx) {
      const caller = ctx.values.get(callerKey);
      if (caller?.kind === "admin") {
        return { tenants: (await admin.listTenants()).map(tenantToProto) };
      }
      const own = await admin.getTenant(caller?.tenantId ?? "");
      return { tenants: own === undefined ? [] : [tenantToProto(own)] };
    },
  };
}

// CreateApiKey, ListApiKeys, RevokeApiKey.
function keyHandlers(
  admin: AdminStore,
  now: () => number,
): Pick<AdminHandlers, "createApiKey" | "listApiKeys" | "revokeApiKey"> {
  return {
    async createApiKey(req, ctx) {
      const tenant = await tenantOrThrow(admin, ownTenantOrThrow(ctx, req.tenantId));
      const { kind, name, scopes, origins } = validateKeyRequest(req);
      const made = generateApiKey(kind);
      const record: ApiKeyRecord = {
        id: made.id,
        tenantId: tenant.id,
        kind,
        scopes,
        allowedOrigins: origins,
        name,
        createdAtMs: now(),
        revokedAtMs: 0,
        hash: made.hash,
      };
      await admin.createApiKey(record);
      return { key: keyToProto(record), secret: made.secret };
    },

    async listApiKeys(req, ctx) {
      const tenantId = ownTenantOrThrow(ctx, req.tenantId);
      await tenantOrThrow(admin, tenantId);
      return { keys: (await admin.listApiKeys(tenantId)).map(keyToProto) };
    },

    async revokeApiKey(req, ctx) {
      const caller = ctx.values.get(callerKey);
      if (caller?.kind !== "admin") {
        // Another tenant's key answers as a key that does not exist.
        const own = await admin.listApiKeys(caller?.tenantId ?? "");
        if (!own.some((k) => k.id === req.keyId)) {
          throw new OtpError("API_KEY_NOT_FOUND", "no key has this id");
        }
      }
      const key = await admin.revokeApiKey(req.keyId, now());
      if (key === undefined) throw new OtpError("API_KEY_NOT_FOUND", "no key has this id");
      return { key: keyToProto(key) };
    },
  };
}

// What CreateApiKey asks for, checked: a publishable key holds only GENERATE
// and VERIFY and needs origins; a secret key takes none.
function validateKeyRequest(req: CreateApiKeyRequest): {
  kind: ApiKeyRecord["kind"];
  name: string;
  scopes: ScopeName[];
  origins: string[];
} {
  if (req.kind !== ApiKeyKind.SECRET && req.kind !== ApiKeyKind.PUBLISHABLE) {
    throw invalidKey("kind must be SECRET or PUBLISHABLE", "kind");
  }
  const kind = req.kind === ApiKeyKind.SECRET ? "secret" : "publishable";
  const name = boundedText(req.name, adminLimits.keyName);
  if (name === undefined) {
    throw invalidKey("name must be at most 100 characters without control characters", "name");
  }
  if (req.scopes.length > adminLimits.scopes) {
    throw invalidKey(`scopes must list at most ${adminLimits.scopes} known scopes`, "scopes");
  }
  const scopes = [...new Set(req.scopes)].map((s) => scopeNames[s]);
  if (scopes.length === 0 || scopes.some((s) => s === undefined)) {
    throw invalidKey("scopes must name at least one known scope", "scopes");
  }
  const origins = [...new Set(req.allowedOrigins)];
  if (kind === "publishable") {
    if (scopes.some((s) => s !== "generate" && s !== "verify")) {
      throw invalidKey("a publishable key may hold only GENERATE and VERIFY", "scopes");
    }
    if (
      origins.length === 0 ||
      req.allowedOrigins.length > adminLimits.allowedOrigins ||
      origins.some((o) => webOrigin(o) === undefined)
    ) {
      throw invalidKey(
        `a publishable key needs 1 to ${adminLimits.allowedOrigins} origins like https://app.example.com (at most ${webOriginMaxLength} characters, no path)`,
        "allowed_origins",
      );
    }
  } else if (origins.length > 0) {
    throw invalidKey("only publishable keys take allowed_origins", "allowed_origins");
  }
  return { kind, name, scopes: scopes as ScopeName[], origins };
}
