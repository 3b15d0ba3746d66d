import { timingSafeEqual } from "node:crypto";
import type { ContextValues, Interceptor } from "@connectrpc/connect";
import { OtpError } from "../../core/otp-error.js";
import { newTenantScope, type TenantScope } from "../../core/tenant-scope.js";
import type { AdminStore, ApiKeyRecord, Credential, ScopeName } from "../../tenancy/admin-store.js";
import { hashApiKey, parseApiKey } from "../../tenancy/api-key.js";
import { effectiveSettings } from "../../tenancy/effective-settings.js";
import type { KeyRefusal } from "../audit-context.js";
import { type Caller, callerKey, defaultTenantId, tenantScopeKey } from "../caller.js";
import { procedureName } from "../procedure-name.js";
import {
  anonymousScopes,
  holds,
  isAdminNeed,
  publishableProcedures,
  requiredScopes,
} from "../scopes.js";

export { type Need, requiredScopes } from "../scopes.js";

/** Options for {@link createAuthInterceptor}. */
export interface AuthOptions {
  admin: AdminStore;
  /** True in production: every call but health and reflection needs a key. */
  requireKey: boolean;
  /** The credential AdminService takes; undefined disables AdminService. */
  adminToken: string | undefined;
  /**
   * Told of every call a tenant makes, with its scope, for usage counters
   * (which the call's store step may count: see `deferUsage`).
   */
  onCall?: (procedure: string, scope: TenantScope) => void;
  /** Told when the handler of a call {@link onCall} heard of is done, to count what its store step did not. */
  onCallDone?: (scope: TenantScope) => void;
  /** Told of every key that passed, for its last use (a map write: see tenancy/key-use.ts). */
  onKeyUsed?: (keyId: string) => void;
  /** Told of a key that exists but was refused (revoked, expired, deleted, its tenant suspended or gone), for the audit trail. */
  onKeyRefused?: (
    key: ApiKeyRecord,
    why: KeyRefusal,
    procedure: string,
    values: ContextValues | undefined,
  ) => void;
  /** Told of an AdminService call without ADMIN_TOKEN, for the audit trail. */
  onAdminRefused?: (procedure: string, values: ContextValues | undefined) => void;
  /** The clock key expiry is read against; Date.now by default. */
  now?: () => number;
}

const unauthenticated = () =>
  new OtpError("UNAUTHENTICATED", "a valid API key is required (Authorization: Bearer <key>)");
const denied = (why: string) =>
  new OtpError("PERMISSION_DENIED", "this key may not make this call", { metadata: { need: why } });

// Strings of different lengths differ (their bytes do too), and a length is no secret.
function sameSecret(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Finds who is calling from the request headers alone and checks that the
 * caller may make this call at all: a missing or bad key is
 * `unauthenticated` with nothing said about why; a key without the scope, a
 * publishable key outside its procedures or origins, is `permission_denied`.
 * Keys are looked up by hash through the admin store it is given (in the
 * service, the per-process cache of tenancy/cached-admin-store.ts, which a
 * revocation clears on every replica within a second). In development a caller without a key is an anonymous
 * member of the default tenant; a key, when sent, is still checked.
 *
 * It reads no body, so the RPC handler runs it before a request body is read,
 * decompressed or parsed (see rpc/rpc-handler.ts): an unauthenticated caller
 * costs a header lookup. Undefined for procedures that need no key.
 */
export async function authenticate(
  options: AuthOptions,
  procedure: string,
  headers: Headers,
  values?: ContextValues,
): Promise<Caller | undefined> {
  const need = requiredScopes[procedure];
  if (need === undefined) return undefined;
  const header = headers.get("authorization") ?? "";
  const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];
  // Only the admin calls take the admin token: no other call pays for comparing it.
  const isAdmin =
    isAdminNeed(need) &&
    options.adminToken !== undefined &&
    bearer !== undefined &&
    sameSecret(bearer, options.adminToken);
  if (isAdmin) {
    // The admin credential manages any tenant; a key with the scope its own.
    return adminCaller;
  }
  // The admin token's own calls, and admin calls without any credential.
  if (need === "operator" || (need === "admin" && bearer === undefined)) {
    options.onAdminRefused?.(procedure, values);
    throw unauthenticated();
  }
  if (bearer === undefined) {
    if (options.requireKey || header !== "") throw unauthenticated();
    // Anonymous development callers hold every scope but admin-read.
    if (!anonymousScopes.has(need)) throw unauthenticated();
    return anonymousCaller;
  }
  const parsed = parseApiKey(bearer);
  const credential =
    parsed === undefined ? undefined : await options.admin.findCredential(hashApiKey(bearer));
  if (credential === undefined || credential.key.id !== parsed?.id) {
    // A wrong admin token, or a key nobody issued, knocking at AdminService.
    if (isAdminNeed(need)) options.onAdminRefused?.(procedure, values);
    throw unauthenticated();
  }
  const { key } = credential;
  const refusal = refusalOf(credential, (options.now ?? Date.now)());
  if (refusal !== undefined) {
    options.onKeyRefused?.(key, refusal, procedure, values);
    if (refusal === "expired") {
      throw new OtpError("API_KEY_EXPIRED", "this API key has expired");
    }
    if (refusal === "tenant-suspended") {
      throw new OtpError("TENANT_SUSPENDED", "this key's tenant is suspended");
    }
    throw unauthenticated();
  }
  if (!holds(key.scopes, need)) {
    // Keys without the admin scope learn nothing of the admin calls beyond "unauthenticated".
    if (need === "admin") throw unauthenticated();
    throw denied(need);
  }
  if (key.kind === "publishable") {
    if (!publishableProcedures.has(procedure)) throw denied("secret key");
    const origin = headers.get("origin");
    if (origin === null || !key.allowedOrigins.includes(origin)) throw denied("allowed origin");
  }
  options.onKeyUsed?.(key.id);
  return callerOf(key, credential.tenant);
}

/** Why a key that exists may not call, from the cached record alone: no round trip. */
export function refusalOf({ key, tenant }: Credential, nowMs: number): KeyRefusal | undefined {
  if (key.deletedAtMs) return "deleted";
  if (key.revokedAtMs !== 0) return "revoked";
  if (tenant === undefined) return "tenant-deleted";
  if (key.expiresAtMs && nowMs >= key.expiresAtMs) return "expired";
  if (tenant.suspendedAtMs) return "tenant-suspended";
  return undefined;
}

/** A signed-in console session, as {@link authorizeSession} needs it. */
export interface SessionCredential {
  kind: "operator" | "tenant";
  tenantId: string;
  keyId: string;
  scopes: readonly ScopeName[];
}

/**
 * The caller of a call made with a console session (the cookie stands in for
 * the bearer token, see http/console-gate.ts), held to the same rules as the
 * credential the session was opened with: the operator's session is the admin
 * credential, a tenant's session the scopes of its admin key. Only
 * AdminService takes a session; other procedures are `unauthenticated`.
 */
export function authorizeSession(procedure: string, session: SessionCredential): Caller {
  const need = requiredScopes[procedure];
  if (need === undefined || !procedure.startsWith("otp.v1.AdminService/")) throw unauthenticated();
  if (session.kind === "operator") return operatorSessionCaller;
  if (need === "operator") throw denied("operator");
  if (!holds(session.scopes, need)) throw denied(need);
  return {
    tenantId: session.tenantId,
    keyId: session.keyId,
    kind: "secret",
    scopes: new Set(session.scopes),
    viaConsole: true,
  };
}

// Callers are read, never changed: one per kind, and one per key record. The
// key cache hands out the same record until the key changes, so a call with a
// known key allocates no caller.
const adminCaller: Caller = { tenantId: "", keyId: "admin", kind: "admin", scopes: new Set() };
const operatorSessionCaller: Caller = { ...adminCaller, viaConsole: true };
const anonymousCaller: Caller = {
  tenantId: defaultTenantId,
  keyId: "anonymous",
  kind: "anonymous",
  scopes: anonymousScopes,
};
const callers = new WeakMap<ApiKeyRecord, Caller>();
// A change to the tenant's settings reloads the credential (the key cache
// forgets it on every replica), so a new key record, and a new caller.
function callerOf(key: ApiKeyRecord, tenant: Credential["tenant"]): Caller {
  let caller = callers.get(key);
  if (caller === undefined) {
    const settings = effectiveSettings(tenant?.settings);
    caller = {
      tenantId: key.tenantId,
      keyId: key.id,
      kind: key.kind,
      scopes: new Set(key.scopes),
      ...(settings === undefined ? {} : { settings }),
    };
    callers.set(key, caller);
  }
  return caller;
}

/**
 * Authorises every call and gives it its tenant scope ({@link tenantScopeKey}). The caller comes from
 * {@link callerKey} when the RPC handler has authenticated it from the headers
 * already, or is authenticated here. What needs the request message is
 * checked here: a publishable key may only Generate with a delivery target,
 * so it never sees a code, and only Verify by challenge id, never by recipient.
 *
 * It sits inside the error interceptor (its refusals need typed details) and
 * outside the rate limit (a refused caller spends nothing).
 */
export function createAuthInterceptor(options: AuthOptions): Interceptor {
  return (next) => async (req) => {
    const procedure = procedureName(req.method);
    if (requiredScopes[procedure] === undefined) return next(req);
    let caller = req.contextValues.get(callerKey);
    if (caller === undefined) {
      caller = await authenticate(options, procedure, req.header, req.contextValues);
      if (caller === undefined) return next(req);
      req.contextValues.set(callerKey, caller);
    }
    if (caller.kind === "publishable" && procedure === "otp.v1.OtpService/Generate") {
      const targets = (req.message as { deliveryTargets?: unknown[] } | undefined)?.deliveryTargets;
      if (targets === undefined || targets.length === 0) throw denied("delivery target");
    }
    // The challenge id is what lets a browser verify: a public key naming a
    // recipient could spend anyone's attempts. Verify by recipient is for servers.
    if (caller.kind === "publishable" && procedure === "otp.v1.OtpService/Verify") {
      const recipient = (req.message as { recipient?: string } | undefined)?.recipient;
      if (recipient !== undefined && recipient !== "") throw denied("challenge id");
    }
    if (caller.kind === "admin") return next(req);
    // Everything the call does, a streamed response included, is its tenant's:
    // the handlers hand this scope to the domains and the store.
    const scope = newTenantScope(
      caller.tenantId,
      caller.kind === "publishable" ? "publishable" : "server",
    );
    req.contextValues.set(tenantScopeKey, scope);
    const { onCall, onCallDone } = options;
    onCall?.(procedure, scope);
    if (onCallDone === undefined) return next(req);
    try {
      return await next(req);
    } finally {
      onCallDone(scope);
    }
  };
}
