import { timingSafeEqual } from "node:crypto";
import type { Interceptor } from "@connectrpc/connect";
import { OtpError } from "../errors/otp-error.js";
import type { AdminStore, ScopeName } from "./admin-store.js";
import { hashApiKey, parseApiKey } from "./api-key.js";
import { type Caller, callerKey, defaultTenantId } from "./caller.js";
import { type CallerSide, runAsTenant } from "./tenant-scope.js";

/** The scope each procedure needs; procedures not listed need no key (health, reflection). */
export const requiredScopes: Readonly<Record<string, ScopeName | "admin">> = {
  "otp.v1.OtpService/Generate": "generate",
  "otp.v1.OtpService/Resend": "generate",
  "otp.v1.OtpService/Cancel": "generate",
  "otp.v1.OtpService/GetChallenge": "generate",
  "otp.v1.OtpService/Verify": "verify",
  "otp.v1.OtpService/EnrollTotp": "totp",
  "otp.v1.OtpService/ConfirmTotp": "totp",
  "otp.v1.OtpService/VerifyTotp": "totp",
  "otp.v1.OtpService/DeleteTotp": "totp",
  "otp.v1.DeliveryService/Send": "send",
  "otp.v1.DeliveryService/GetDelivery": "send",
  "otp.v1.DeliveryService/WatchDelivery": "send",
  "otp.v1.DeliveryService/ListChannels": "send",
  "otp.v1.DeliveryService/ListOutbox": "send",
  "otp.v1.DeliveryService/CreateTelegramLink": "send",
  "otp.v1.AdminService/CreateTenant": "admin",
  "otp.v1.AdminService/ListTenants": "admin",
  "otp.v1.AdminService/CreateApiKey": "admin",
  "otp.v1.AdminService/ListApiKeys": "admin",
  "otp.v1.AdminService/RevokeApiKey": "admin",
  "otp.v1.AdminService/GetUsage": "admin-read",
};

/** What a publishable (browser) key may call at all. */
const publishableProcedures = new Set(["otp.v1.OtpService/Generate", "otp.v1.OtpService/Verify"]);

const allScopes: ScopeName[] = ["generate", "verify", "send", "totp"];

/** Options for {@link createAuthInterceptor}. */
export interface AuthOptions {
  admin: AdminStore;
  /** True in production: every call but health and reflection needs a key. */
  requireKey: boolean;
  /** The credential AdminService takes; undefined disables AdminService. */
  adminToken: string | undefined;
  /** Told of every call a tenant makes, inside the tenant's scope, for usage counters. */
  onCall?: (procedure: string) => void;
}

const unauthenticated = () =>
  new OtpError("UNAUTHENTICATED", "a valid API key is required (Authorization: Bearer <key>)");
const denied = (why: string) =>
  new OtpError("PERMISSION_DENIED", "this key may not make this call", { metadata: { need: why } });

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Authenticates every call and checks its scope. A missing or bad key is
 * `unauthenticated` with nothing said about why; a key without the scope is
 * `permission_denied`. Publishable keys may only Generate with a delivery
 * target (so they never see a code) and Verify, and only from their listed
 * origins. Keys are looked up by hash on every call, so a revoked key fails
 * at once on every replica. In development a caller without a key is an
 * anonymous member of the default tenant; a key, when sent, is still checked.
 *
 * It sits inside the error interceptor (its refusals need typed details) and
 * outside the rate limit (a refused caller spends nothing).
 */
export function createAuthInterceptor(options: AuthOptions): Interceptor {
  return (next) => async (req) => {
    const procedure = `${req.method.parent.typeName}/${req.method.name}`;
    const need = requiredScopes[procedure];
    if (need === undefined) return next(req);
    const header = req.header.get("authorization") ?? "";
    const bearer = /^Bearer\s+(\S+)$/i.exec(header)?.[1];

    let caller: Caller;
    const isAdmin =
      options.adminToken !== undefined &&
      bearer !== undefined &&
      sameSecret(bearer, options.adminToken);
    if (need === "admin-read" && isAdmin) {
      // The admin credential reads any tenant's usage; a key with the scope reads its own.
      caller = { tenantId: "", keyId: "admin", kind: "admin", scopes: new Set() };
    } else if (need === "admin") {
      if (
        options.adminToken === undefined ||
        bearer === undefined ||
        !sameSecret(bearer, options.adminToken)
      ) {
        throw unauthenticated();
      }
      caller = { tenantId: "", keyId: "admin", kind: "admin", scopes: new Set() };
    } else if (bearer === undefined) {
      if (options.requireKey || header !== "") throw unauthenticated();
      caller = {
        tenantId: defaultTenantId,
        keyId: "anonymous",
        kind: "anonymous",
        scopes: new Set(allScopes),
      };
    } else {
      const parsed = parseApiKey(bearer);
      const key =
        parsed === undefined ? undefined : await options.admin.findApiKeyByHash(hashApiKey(bearer));
      if (key === undefined || key.revokedAtMs !== 0 || key.id !== parsed?.id)
        throw unauthenticated();
      if (!key.scopes.includes(need)) throw denied(need);
      if (key.kind === "publishable") {
        if (!publishableProcedures.has(procedure)) throw denied("secret key");
        const origin = req.header.get("origin");
        if (origin === null || !key.allowedOrigins.includes(origin)) throw denied("allowed origin");
        const targets = (req.message as { deliveryTargets?: unknown[] } | undefined)
          ?.deliveryTargets;
        if (procedure.endsWith("/Generate") && (targets === undefined || targets.length === 0)) {
          throw denied("delivery target");
        }
      }
      caller = {
        tenantId: key.tenantId,
        keyId: key.id,
        kind: key.kind,
        scopes: new Set(key.scopes),
      };
    }
    req.contextValues.set(callerKey, caller);
    if (caller.kind === "admin") return next(req);
    // Everything the call does, a streamed response included, runs as its tenant.
    const tenantId = caller.tenantId;
    const side: CallerSide = caller.kind === "publishable" ? "publishable" : "server";
    const res = await runAsTenant(
      tenantId,
      () => {
        options.onCall?.(procedure);
        return next(req);
      },
      side,
    );
    if (!res.stream) return res;
    return { ...res, message: asTenant(tenantId, side, res.message) };
  };
}

// Resumes a response stream inside the tenant's scope at every step.
function asTenant<T>(
  tenantId: string,
  side: CallerSide,
  source: AsyncIterable<T>,
): AsyncIterable<T> {
  const run = <R>(fn: () => R) => runAsTenant(tenantId, fn, side);
  return {
    [Symbol.asyncIterator]() {
      const it = source[Symbol.asyncIterator]();
      return {
        next: (...args) => run(() => it.next(...args)),
        return: (value) => run(() => it.return?.(value) ?? Promise.resolve({ done: true, value })),
        throw: (err) => run(() => it.throw?.(err) ?? Promise.reject(err)),
      };
    },
  };
}
