import { randomUUID } from "node:crypto";
import { timestampDate } from "@bufbuild/protobuf/wkt";
import type { ServiceImpl } from "@connectrpc/connect";
import {
  type AdminService,
  ApiKeyKind,
  type CreateApiKeyRequest,
} from "../../gen/otp/v1/admin_pb.js";
import type { AuditRecorder } from "../audit/audit-recorder.js";
import type { AuditTrail } from "../audit/audit-trail.js";
import { boundedText } from "../core/bounded-text.js";
import { OtpError } from "../core/otp-error.js";
import { webOrigin, webOriginMaxLength } from "../core/web-origin.js";
import type { EventSink } from "../events/event-emitter.js";
import type { AdminStore, ApiKeyRecord, ScopeName } from "../tenancy/admin-store.js";
import { generateApiKey } from "../tenancy/api-key.js";
import type { UsageStore } from "../tenancy/limit-store.js";
import type { ActivityMethods } from "./activity-handlers.js";
import {
  adminLimits,
  invalidKey,
  keyToProto,
  ownKeyOrThrow,
  scopeNames,
  tenantName,
  tenantOrThrow,
  tenantToProto,
} from "./admin-convert.js";
import { createLifecycleHandlers } from "./admin-lifecycle.js";
import { ownTenantOrThrow, type TenantQuota, usageHandlers } from "./admin-usage.js";
import { adminChange } from "./audit-context.js";
import { createAuditHandlers } from "./audit-service.js";
import { callerKey } from "./caller.js";
import { createWebhookHandlers, type WebhookHandlerDeps } from "./webhook-service.js";

export type { TenantQuota } from "./admin-usage.js";

/** What AdminService needs beyond the admin store: the audit trail and the last uses not yet written. */
export interface AdminExtras {
  audit: AuditRecorder;
  trail: AuditTrail;
  /** The last use of a key this process saw and has not yet written (tenancy/key-use.ts). */
  pendingUse?: (keyId: string) => number | undefined;
  /** Aborts when the server shuts down: open audit watches end with SHUTTING_DOWN. */
  shutdown?: AbortSignal;
  /** Sets the timer that audits a key's expiry when it passes. */
  scheduleKeyExpiry?: (key: { id: string; tenantId: string; expiresAtMs: number }) => Promise<void>;
  /** Webhook endpoints, the live event feed and the event buffer (key.created, key.revoked). */
  events: Omit<WebhookHandlerDeps, "admin" | "audit" | "shutdown"> & { sink: EventSink };
}

/**
 * The AdminService handlers: tenants and their keys, their life cycle and
 * the audit trail. The auth interceptor has already checked the admin
 * credential before any of these run. Every change is audited.
 */
export function createAdminHandlers(
  admin: AdminStore,
  store: Pick<UsageStore, "getUsage">,
  now: () => number,
  extras: AdminExtras,
  quotas: readonly TenantQuota[] = [],
): Omit<ServiceImpl<typeof AdminService>, ActivityMethods> {
  return {
    ...tenantHandlers(admin, extras.audit, now),
    ...keyHandlers(admin, extras, now),
    ...usageHandlers(admin, store, now, quotas),
    ...createLifecycleHandlers(admin, extras.audit, now, (tenantId, keyId) =>
      extras.events.sink.emit("key.revoked", tenantId, { key_id: keyId }),
    ),
    ...createAuditHandlers(extras),
    ...createWebhookHandlers({
      ...extras.events,
      admin,
      audit: extras.audit,
      shutdown: extras.shutdown,
    }),
  };
}

type AdminHandlers = ServiceImpl<typeof AdminService>;

// CreateTenant, ListTenants.
function tenantHandlers(
  admin: AdminStore,
  audit: AuditRecorder,
  now: () => number,
): Pick<AdminHandlers, "createTenant" | "listTenants"> {
  return {
    async createTenant(req, ctx) {
      const name = tenantName(req.name);
      const tenant = {
        id: `ten_${randomUUID().replace(/-/g, "").slice(0, 16)}`,
        name,
        createdAtMs: now(),
      };
      await admin.createTenant(tenant);
      await audit.record(
        adminChange(ctx.values, {
          tenantId: tenant.id,
          action: "tenant.created",
          target: tenant.id,
          details: { name },
        }),
      );
      return { tenant: tenantToProto(tenant) };
    },

    async listTenants(_req, ctx) {
      const caller = ctx.values.get(callerKey);
      if (caller?.kind === "admin") {
        return { tenants: (await admin.listTenants()).map(tenantToProto) };
      }
      // A tenant's admin key (or its console session) sees its own tenant only.
      const own = await admin.getTenant(caller?.tenantId ?? "");
      return { tenants: own === undefined ? [] : [tenantToProto(own)] };
    },
  };
}

// CreateApiKey, ListApiKeys, RevokeApiKey.
function keyHandlers(
  admin: AdminStore,
  extras: AdminExtras,
  now: () => number,
): Pick<AdminHandlers, "createApiKey" | "listApiKeys" | "revokeApiKey"> {
  const { audit } = extras;
  return {
    async createApiKey(req, ctx) {
      const tenant = await tenantOrThrow(admin, ownTenantOrThrow(ctx, req.tenantId));
      const { kind, name, scopes, origins } = validateKeyRequest(req);
      const expiresAtMs = keyExpiry(req, now());
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
        ...(expiresAtMs === 0 ? {} : { expiresAtMs }),
      };
      await admin.createApiKey(record);
      const details: Record<string, string> = { kind, scopes: scopes.join(",") };
      if (expiresAtMs !== 0) {
        details.expires_at = new Date(expiresAtMs).toISOString();
        await extras.scheduleKeyExpiry?.({ id: record.id, tenantId: tenant.id, expiresAtMs });
      }
      extras.events.sink.emit("key.created", tenant.id, { key_id: record.id, kind });
      await audit.record(
        adminChange(ctx.values, {
          tenantId: tenant.id,
          action: "key.created",
          target: record.id,
          details,
        }),
      );
      return { key: keyToProto(record), secret: made.secret };
    },

    async listApiKeys(req, ctx) {
      const tenantId = ownTenantOrThrow(ctx, req.tenantId);
      await tenantOrThrow(admin, tenantId);
      const keys = await admin.listApiKeys(tenantId);
      // Uses this process has seen but not yet written count too.
      return {
        keys: keys.map((k) => {
          const pending = extras.pendingUse?.(k.id) ?? 0;
          return keyToProto(pending > (k.lastUsedAtMs ?? 0) ? { ...k, lastUsedAtMs: pending } : k);
        }),
      };
    },

    async revokeApiKey(req, ctx) {
      await ownKeyOrThrow(admin, ctx, req.keyId);
      const key = await admin.revokeApiKey(req.keyId, now());
      if (key === undefined) throw new OtpError("API_KEY_NOT_FOUND", "no key has this id");
      extras.events.sink.emit("key.revoked", key.tenantId, { key_id: key.id });
      await audit.record(
        adminChange(ctx.values, { tenantId: key.tenantId, action: "key.revoked", target: key.id }),
      );
      return { key: keyToProto(key) };
    },
  };
}

// The expiry CreateApiKey asks for: 0 for none, else a time after now and
// within the longest lifetime.
function keyExpiry(req: CreateApiKeyRequest, nowMs: number): number {
  if (req.expiresAt === undefined) return 0;
  const at = timestampDate(req.expiresAt).getTime();
  if (!Number.isFinite(at) || at <= nowMs || at > nowMs + adminLimits.keyLifetimeMs) {
    throw invalidKey("expires_at must be in the future and within ten years", "expires_at");
  }
  return at;
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
