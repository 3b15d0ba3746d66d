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
import type { ActivityMethods } from "./activity-handlers.js";
import { callerKey, defaultTenantId } from "./caller.js";
import { optionalTimestamp } from "./convert.js";

const scopeNames: Record<number, ScopeName> = {
  [Scope.GENERATE]: "generate",
  [Scope.VERIFY]: "verify",
  [Scope.SEND]: "send",
  [Scope.TOTP]: "totp",
  [Scope.ADMIN_READ]: "admin-read",
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
 * has already checked the admin credential before any of these run.
 */
export function createAdminHandlers(
  admin: AdminStore,
  store: Pick<UsageStore, "getUsage">,
  now: () => number = Date.now,
): Omit<ServiceImpl<typeof AdminService>, ActivityMethods> {
  return {
    ...tenantHandlers(admin, now),
    ...keyHandlers(admin, now),
    ...usageHandlers(admin, store, now),
  };
}

type AdminHandlers = ServiceImpl<typeof AdminService>;

async function tenantOrThrow(admin: AdminStore, id: string): Promise<TenantRecord> {
  const tenant = id === "" ? undefined : await admin.getTenant(id);
  if (tenant === undefined) throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
  return tenant;
}

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

    async listTenants() {
      return { tenants: (await admin.listTenants()).map(tenantToProto) };
    },
  };
}

// CreateApiKey, ListApiKeys, RevokeApiKey.
function keyHandlers(
  admin: AdminStore,
  now: () => number,
): Pick<AdminHandlers, "createApiKey" | "listApiKeys" | "revokeApiKey"> {
  return {
    async createApiKey(req) {
      const tenant = await tenantOrThrow(admin, req.tenantId);
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

    async listApiKeys(req) {
      await tenantOrThrow(admin, req.tenantId);
      return { keys: (await admin.listApiKeys(req.tenantId)).map(keyToProto) };
    },

    async revokeApiKey(req) {
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

// GetUsage: an admin reads any tenant's, a tenant's admin key only its own.
function usageHandlers(
  admin: AdminStore,
  store: Pick<UsageStore, "getUsage">,
  now: () => number,
): Pick<AdminHandlers, "getUsage"> {
  return {
    async getUsage(req, ctx) {
      const caller = ctx.values.get(callerKey);
      const tenantId = caller?.kind === "admin" ? req.tenantId : (caller?.tenantId ?? "");
      if (caller?.kind !== "admin" && req.tenantId !== "" && req.tenantId !== tenantId) {
        // Another tenant's usage reads as a tenant that does not exist.
        throw new OtpError("TENANT_NOT_FOUND", "no tenant has this id");
      }
      // "default" holds anonymous development callers; it is never created, yet has usage.
      if (caller?.kind === "admin" && tenantId !== defaultTenantId) {
        await tenantOrThrow(admin, tenantId);
      }
      const days = req.days === 0 ? 7 : req.days;
      if (!Number.isInteger(days) || days < 1 || days > 31) {
        throw new OtpError("PAGE_SIZE_INVALID", "days must be 0 (7) or between 1 and 31", {
          field: "days",
        });
      }
      const dates = Array.from({ length: days }, (_, i) =>
        new Date(now() - i * 86_400_000).toISOString().slice(0, 10),
      );
      const usage = await store.getUsage(tenantId, dates);
      return {
        days: dates.map((date) => ({
          date,
          counters: Object.fromEntries(
            Object.entries(usage[date] ?? {}).map(([k, v]) => [k, BigInt(v)]),
          ),
        })),
      };
    },
  };
}
