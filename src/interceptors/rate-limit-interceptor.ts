import type { Interceptor } from "@connectrpc/connect";
import { callerKey } from "../auth/caller.js";
import { OtpError } from "../errors/otp-error.js";
import { clientIpKey } from "../http/client-ip.js";
import { ipLimitKey } from "../ratelimit/ip-limit-key.js";
import type { RateLimit, Store } from "../store/store.js";

/** Options for {@link createRateLimitInterceptor}. */
export interface RateLimitInterceptorOptions {
  /** Where the counters live; shared by every instance when it is Redis. */
  store: Store;
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
  /** Told the bucket name ("generate_ip" or "verify_ip") of each refused call, for metrics. */
  onRefused?: (limit: string) => void;
}

/**
 * Limits calls per caller IP: Generate and Resend share the `generate_ip`
 * bucket, Verify has `verify_ip`. A refused call never reaches its handler,
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
  const { store, limits, onRefused } = options;
  const buckets = new Map<string, { name: string; limit: RateLimit | "off" }>([
    ["otp.v1.OtpService/Generate", { name: "generate_ip", limit: limits.generatePerIp }],
    ["otp.v1.OtpService/Resend", { name: "generate_ip", limit: limits.generatePerIp }],
    ["otp.v1.OtpService/Verify", { name: "verify_ip", limit: limits.verifyPerIp }],
  ]);

  const check = async (name: string, key: string, limit: RateLimit | "off" | undefined) => {
    if (limit === undefined || limit === "off") return;
    // A store failure propagates: the call fails rather than going unlimited.
    const result = await store.consume(name, key, limit);
    if (!result.allowed) {
      onRefused?.(name);
      // Says nothing about any challenge or recipient: the caller only learns to wait.
      throw new OtpError("RATE_LIMITED", "too many requests; retry later", {
        retryAfterMs: result.retryAfterMs,
        metadata: { limit: name },
      });
    }
  };

  return (next) => async (req) => {
    if (req.stream) return next(req);
    const bucket = buckets.get(`${req.method.parent.typeName}/${req.method.name}`);
    if (bucket === undefined) return next(req);
    const ip = ipLimitKey(req.contextValues.get(clientIpKey), limits.ipv6PrefixLength);
    // Browser keys are public: their callers get their own, tighter per-address budget.
    if (req.contextValues.get(callerKey)?.kind === "publishable") {
      await check(`${bucket.name}_publishable`, ip, limits.publishablePerIp);
    } else {
      await check(bucket.name, ip, bucket.limit);
    }
    if (bucket.name === "generate_ip") await check("tenant_generate", "all", limits.tenantGenerate);
    return next(req);
  };
}
