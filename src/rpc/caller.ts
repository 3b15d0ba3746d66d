import { createContextKey } from "@connectrpc/connect";
import type { TenantScope } from "../core/tenant-scope.js";
import type { ScopeName } from "../tenancy/admin-store.js";
import type { ApiKeyKind } from "../tenancy/api-key.js";
import type { EffectiveSettings } from "../tenancy/effective-settings.js";

/** Who is calling: the tenant and key behind a request, set by the auth interceptor. */
export interface Caller {
  tenantId: string;
  /** The key id, or "anonymous" for a development caller without a key. */
  keyId: string;
  kind: ApiKeyKind | "anonymous" | "admin";
  scopes: ReadonlySet<ScopeName>;
  /**
   * The tenant's settings, from the cached credential (no store read);
   * undefined when the tenant set nothing, and for anonymous and admin callers.
   */
  settings?: EffectiveSettings;
  /** True when the call came with a console session's cookie rather than a bearer credential. */
  viaConsole?: boolean;
}

/** The tenant anonymous development callers belong to. */
export const defaultTenantId = "default";

/** The context key under which the auth interceptor stores the {@link Caller}. */
export const callerKey = createContextKey<Caller | undefined>(undefined, { description: "caller" });

/**
 * The tenant of the call (core/tenant-scope.ts), set by the auth interceptor
 * for every call of a tenant; handlers hand it to the domains. Undefined for
 * the admin credential and for procedures that need no key.
 */
export const tenantScopeKey = createContextKey<TenantScope | undefined>(undefined, {
  description: "tenant scope",
});
