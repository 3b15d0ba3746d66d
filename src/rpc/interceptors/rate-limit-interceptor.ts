import { createContextKey, type Interceptor } from "@connectrpc/connect";
import { ipLimitKey } from "../../core/ip-limit-key.js";
import { OtpError } from "../../core/otp-error.js";
import { isStoreUnreachable } from "../../core/store-unavailable.js";
import type { TenantScope } from "../../core/tenant-scope.js";
import { clientIpKey } from "../../http/client-ip.js";
import type { CallCharges, LimitCharge, LimitStore, RateLimit } from "../../tenancy/limit-store.js";
import { callerKey, tenantScopeKey } from "../caller.js";
import { procedureName } from "../procedure-name.js";

/** Options for {@link createRateLimitInterceptor}. */
export interface RateLimitInterceptorOptions {
  /** Where the counters live; shared by every instance when it is Redis. */
  store: LimitStore;
  /**
   * The counters as the call's tenant sees them (store/tenant-store.ts keys
   * them by tenant); `store` for every call without it.
   */
  scoped?: (scope: TenantScope | undefined) => LimitStore;
  limits: {
    /** Generate and Resend calls per caller IP (`RATE_LIMIT_GENERATE_PER_IP`). */
    generatePerIp: RateLimit | "off";
    /** Verify calls per caller IP (`RATE_LIMIT_VERIFY_PER_IP`). */
    verifyPerIp: RateLimit | "off";
    /** Generate and Verify calls per IP made with a publishable (browser) key (`RATE_LIMIT_PUBLISHABLE_PER_IP`). */
    publishablePerIp?: RateLimit | "off";
    /** Generate and Resend calls per tenant, from any address (`TENANT_QUOTA_GENERATE`). */
    tenantGenerate?: RateLimit | "off";
    /** How many leading bits of an IPv6 address make one caller (`RATE_LIMIT_IPV6_PREFIX`, 64 by default). */
    ipv6PrefixLength?: number;
  };
  /**
   * Hands Generate's and Verify's limits to the handler ({@link callChargesKey})
   * instead of charging them here, so the store charges them in the same step
   * as the call's change: one round trip (see docs/hot-path.md). The handler
   * and the store then refuse exactly as this interceptor would. Resend is
   * always charged here.
   */
  chargeInStore?: boolean;
  /**
   * A keyed hash of a caller-supplied rate-limit key (see
   * {@link RateLimitKeyInput}), so no end user's address or id names a
   * counter in the clear: in the service, the code hasher's digest.
   */
  hashKey: (bucket: string, key: string) => string;
  /** Told the bucket name ("generate_ip" or "verify_ip") and tenant of each refused call, for metrics. */
  onRefused?: (limit: string, tenantId: string | undefined) => void;
  /**
   * Told the bucket name and the store's error each time a per-IP limit let a
   * call through because the node holding its counter could not be reached,
   * for a warning and a metric.
   */
  onFailedOpen?: (limit: string, err: unknown) => void;
}

/**
 * The limits a Generate or Verify call is to be charged against in its store
 * step, set by the rate-limit interceptor when `chargeInStore` is on; the
 * handler passes them to the domain as plain data. Undefined otherwise.
 */
export const callChargesKey = createContextKey<CallCharges | undefined>(undefined, {
  description: "limits charged in the store step",
});

const chargedInStore = new Set(["otp.v1.OtpService/Generate", "otp.v1.OtpService/Verify"]);

// The per-IP buckets: they only slow an anonymous or browser caller down,
// and what they guard is guarded again by limits that fail closed.
const failOpenBuckets = new Set([
  "generate_ip",
  "verify_ip",
  "generate_ip_publishable",
  "verify_ip_publishable",
]);

/**
 * Limits Generate, Resend and Verify by who calls. Anonymous development
 * callers are limited per IP (Generate and Resend share the `generate_ip`
 * bucket, Verify has `verify_ip`); publishable keys per IP in their own
 * `_publishable` buckets; secret keys (servers, where one address speaks for
 * many people) not per IP at all. Every caller's Generate and Resend count
 * against the tenant quota (`tenant_generate`), and the `rate_limit_keys` a
 * request carries count in the tenant's buckets (`key:<bucket>`, the key
 * hashed). The tenant's settings may replace the publishable and quota
 * limits. A refused call never reaches its handler,
 * so it creates no challenge, sends nothing and costs no attempt; it fails
 * with reason `RATE_LIMITED` (`resource_exhausted`) and the delay before a
 * retry would be allowed. Every other procedure passes untouched. IPv6
 * callers are counted by network ({@link ipLimitKey}: the /64 by default),
 * since one subscriber holds a whole /64 and could otherwise change address
 * for each call.
 *
 * Where it goes: inside the error interceptor, which turns its `OtpError`
 * into the Connect error with typed details (outside it, the client would see
 * an opaque `internal`). The caller's IP comes from {@link clientIpKey}, which
 * `connectNodeAdapter({ contextValues: clientIpContextValues(...) })` sets
 * before any interceptor runs; without it every caller shares the key
 * "unknown", and so one budget.
 *
 * When the store cannot be reached: a per-IP bucket (`generate_ip`,
 * `verify_ip` and their `_publishable` twins) fails open when the store
 * reports its counter's node unreachable (down, timed out, its Cluster slots
 * uncovered), and `onFailedOpen` is told; a caller's budget is one key on one
 * node, and without this a single dead node would fail every call from that
 * address, including calls whose challenges live on healthy nodes. Any other
 * store error fails the call. The tenant quota (`tenant_generate`) always
 * fails closed: it bounds what a tenant can spend, and the per-challenge
 * attempt count and `verify_challenge` limit, which protect codes, live with
 * the challenge and fail closed too.
 *
 * @example
 * connectNodeAdapter({
 *   routes,
 *   contextValues: clientIpContextValues(createClientIpResolver(config.trustedProxies)),
 *   interceptors: [
 *     createRpcLogInterceptor(logger, observe),
 *     createErrorInterceptor(logger),
 *     createRateLimitInterceptor({ store, limits }),
 *   ],
 * });
 */
export function createRateLimitInterceptor(options: RateLimitInterceptorOptions): Interceptor {
  const { limits, onRefused, onFailedOpen, scoped } = options;
  const buckets = new Map<string, { name: string; limit: RateLimit | "off" }>([
    ["otp.v1.OtpService/Generate", { name: "generate_ip", limit: limits.generatePerIp }],
    ["otp.v1.OtpService/Resend", { name: "generate_ip", limit: limits.generatePerIp }],
    ["otp.v1.OtpService/Verify", { name: "verify_ip", limit: limits.verifyPerIp }],
  ]);

  const check = async (
    scope: TenantScope | undefined,
    name: string,
    key: string,
    limit: RateLimit | "off" | undefined,
  ) => {
    if (limit === undefined || limit === "off") return;
    const store = scoped === undefined ? options.store : scoped(scope);
    let result: Awaited<ReturnType<LimitStore["consume"]>>;
    try {
      result = await store.consume(name, key, limit);
    } catch (err) {
      // Only an unreachable node, and only for a per-IP bucket, lets the call through.
      if (failOpenBuckets.has(name) && isStoreUnreachable(err)) {
        onFailedOpen?.(name, err);
        return;
      }
      throw err;
    }
    if (!result.allowed) {
      onRefused?.(name, scope?.tenantId);
      // Says nothing about any challenge or recipient: the caller only learns to wait.
      throw new OtpError("RATE_LIMITED", "too many requests; retry later", {
        retryAfterMs: result.retryAfterMs,
        metadata: { limit: name },
      });
    }
  };

  return (next) => async (req) => {
    if (req.stream) return next(req);
    const procedure = procedureName(req.method);
    const bucket = buckets.get(procedure);
    if (bucket === undefined) return next(req);
    const caller = req.contextValues.get(callerKey);
    const settings = caller?.settings;
    const charges: LimitCharge[] = [];
    // Per-IP limits are for callers who may be anyone: browsers (publishable
    // keys, with their own tighter budget) and anonymous development callers.
    // A secret key is a server: one address speaks for many people, so it is
    // limited per tenant, per recipient and by the keys it passes instead.
    if (caller?.kind === "publishable") {
      const ip = ipLimitKey(req.contextValues.get(clientIpKey), limits.ipv6PrefixLength);
      const limit = settings?.limits.publishablePerIp ?? limits.publishablePerIp;
      pushCharge(charges, `${bucket.name}_publishable`, ip, limit);
    } else if (caller === undefined || caller.kind === "anonymous") {
      const ip = ipLimitKey(req.contextValues.get(clientIpKey), limits.ipv6PrefixLength);
      pushCharge(charges, bucket.name, ip, bucket.limit);
    }
    if (bucket.name === "generate_ip") {
      const quota = settings?.limits.tenantGenerate ?? limits.tenantGenerate;
      pushCharge(charges, "tenant_generate", "all", quota);
    }
    const keys = (req.message as { rateLimitKeys?: RateLimitKeyInput[] } | undefined)
      ?.rateLimitKeys;
    if (keys !== undefined && keys.length > 0) {
      pushKeyCharges(charges, keys, settings?.buckets, options.hashKey);
    }
    if (options.chargeInStore === true && chargedInStore.has(procedure)) {
      req.contextValues.set(callChargesKey, {
        limits: charges,
        ...(onFailedOpen === undefined ? {} : { onFailedOpen }),
      });
      return next(req);
    }
    const scope = req.contextValues.get(tenantScopeKey);
    for (const c of charges) await check(scope, c.bucket, c.key, c.limit);
    return next(req);
  };
}

function pushCharge(
  charges: LimitCharge[],
  bucket: string,
  key: string,
  limit: RateLimit | "off" | undefined,
): void {
  if (limit === undefined || limit === "off") return;
  charges.push({ bucket, key, limit, failOpen: failOpenBuckets.has(bucket) });
}

/** A caller-supplied rate-limit key, as the request message holds it. */
interface RateLimitKeyInput {
  bucket: string;
  key: string;
}

/** The most rate-limit keys one call may carry, and the longest key. */
export const rateLimitKeyBounds = { count: 5, keyMaxLength: 256 } as const;

const keyInvalid = (why: string, field: string) =>
  new OtpError("RATE_LIMIT_KEY_INVALID", why, { field });

// Each key counts in its bucket of the tenant's settings, named `key:<bucket>`
// in the store and in a refusal; the key itself is stored only as a keyed
// hash, since it may be an end user's address or id. They fail closed, like
// the tenant quota: the tenant relies on them to protect its own users.
function pushKeyCharges(
  charges: LimitCharge[],
  keys: readonly RateLimitKeyInput[],
  buckets: ReadonlyMap<string, RateLimit> | undefined,
  hashKey: (bucket: string, key: string) => string,
): void {
  if (keys.length > rateLimitKeyBounds.count) {
    throw keyInvalid(`at most ${rateLimitKeyBounds.count} rate-limit keys`, "rate_limit_keys");
  }
  for (const [i, { bucket, key }] of keys.entries()) {
    const limit = buckets?.get(bucket);
    if (limit === undefined) {
      throw keyInvalid(
        "the tenant's settings define no such bucket",
        `rate_limit_keys[${i}].bucket`,
      );
    }
    if (key.length === 0 || key.length > rateLimitKeyBounds.keyMaxLength) {
      throw keyInvalid(
        `a key must be 1 to ${rateLimitKeyBounds.keyMaxLength} characters`,
        `rate_limit_keys[${i}].key`,
      );
    }
    charges.push({ bucket: `key:${bucket}`, key: hashKey(bucket, key), limit });
  }
}
