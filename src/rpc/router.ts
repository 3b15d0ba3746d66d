import type { ConnectRouter, Interceptor } from "@connectrpc/connect";
import { file_google_rpc_error_details } from "../../gen/google/rpc/error_details_pb.js";
import * as reflectionV1 from "../../gen/grpc/reflection/v1/reflection_pb.js";
import * as reflectionV1alpha from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { file_health_v1_health, Health } from "../../gen/health/v1/health_pb.js";
import { file_otp_v1_activity } from "../../gen/otp/v1/activity_pb.js";
import { AdminService, file_otp_v1_admin } from "../../gen/otp/v1/admin_pb.js";
import { file_otp_v1_audit } from "../../gen/otp/v1/audit_pb.js";
import { DeliveryService, file_otp_v1_delivery } from "../../gen/otp/v1/delivery_pb.js";
import { file_otp_v1_otp, OtpService } from "../../gen/otp/v1/otp_pb.js";
import { file_otp_v1_settings } from "../../gen/otp/v1/settings_pb.js";
import { file_otp_v1_totp } from "../../gen/otp/v1/totp_pb.js";
import type { Reason } from "../core/reasons.js";
import type { TenantScope } from "../core/tenant-scope.js";
import type { ChallengeService } from "../otp/challenge-service.js";
import type { Logger } from "../telemetry/logger.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import type { LimitStore, RateLimit, UsageStore } from "../tenancy/limit-store.js";
import type { TokenSigner } from "../tokens/token-signer.js";
import type { TotpService } from "../totp/totp-service.js";
import { type ActivityHandlerOptions, createActivityHandlers } from "./activity-handlers.js";
import { type AdminExtras, createAdminHandlers, type TenantQuota } from "./admin-service.js";
import { createDeliveryHandlers, type DeliveryHandlerOptions } from "./delivery-service.js";
import type { HealthService } from "./health-service.js";
import { type AuthOptions, createAuthInterceptor } from "./interceptors/auth-interceptor.js";
import { createErrorInterceptor } from "./interceptors/error-interceptor.js";
import { createRateLimitInterceptor } from "./interceptors/rate-limit-interceptor.js";
import { createRpcLogInterceptor, type RpcObserver } from "./interceptors/rpc-log-interceptor.js";
import { createTracingInterceptor, tracingEnabled } from "./interceptors/tracing-interceptor.js";
import { createOtpHandlers } from "./otp-service.js";
import { createDescriptorRegistry, createReflectionServices } from "./reflection-service.js";

/** Everything the routes need, built by the server at start-up. */
export interface RouteDeps {
  challenges: ChallengeService;
  totp: TotpService;
  signer: TokenSigner;
  now: () => number;
  delivery: DeliveryHandlerOptions;
  health: HealthService;
  logger: Logger;
  store: LimitStore & UsageStore;
  /** The limit counters as a call's tenant sees them (store/tenant-store.ts). */
  scoped: (scope: TenantScope | undefined) => LimitStore;
  admin: AdminStore;
  /** The audit trail, its recorder and the pending last uses of keys, for AdminService. */
  adminExtras: AdminExtras;
  auth: Omit<AuthOptions, "admin">;
  /** The console's data: activity counters, the live feed, system health. */
  activity: ActivityHandlerOptions;
  limits: {
    generatePerIp: RateLimit | "off";
    verifyPerIp: RateLimit | "off";
    publishablePerIp: RateLimit | "off";
    tenantGenerate: RateLimit | "off";
    ipv6PrefixLength: number;
  };
  /** Every tenant's quotas, which GetUsage reports beside the counters. */
  quotas?: readonly TenantQuota[];
  onRateLimited: (limit: string, tenantId: string | undefined) => void;
  /** The keyed hash naming a caller-supplied rate-limit key's counter (the code hasher's digest). */
  hashRateLimitKey: (bucket: string, key: string) => string;
  /** Told when a per-IP limit let a call through because its counter's node was unreachable. */
  onRateLimitFailedOpen?: (limit: string, err: unknown) => void;
  /** Told the reason of every domain error, for metrics. */
  onReason?: (reason: Reason, procedure: string, tenantId?: string) => void;
  observeRpc: RpcObserver;
}

/** The services served on the port, by fully-qualified name. */
export const servedServices = [
  OtpService.typeName,
  DeliveryService.typeName,
  AdminService.typeName,
  Health.typeName,
] as const;

/** Registers every service on a Connect router. */
export function createRoutes(deps: RouteDeps): (router: ConnectRouter) => void {
  // The registry reflection describes: our contract, the error details clients
  // decode, and the health service.
  const registry = createDescriptorRegistry(
    file_otp_v1_otp,
    file_otp_v1_delivery,
    file_otp_v1_totp,
    file_otp_v1_admin,
    file_otp_v1_audit,
    file_otp_v1_settings,
    file_otp_v1_activity,
    file_google_rpc_error_details,
    file_health_v1_health,
  );
  const reflection = createReflectionServices(registry, [...servedServices]);
  return (router) => {
    router.service(
      OtpService,
      createOtpHandlers(deps.challenges, deps.totp, deps.signer, deps.now),
    );
    router.service(DeliveryService, createDeliveryHandlers(deps.delivery));
    router.service(AdminService, {
      ...createAdminHandlers(deps.admin, deps.store, deps.now, deps.adminExtras, deps.quotas),
      ...createActivityHandlers(deps.activity),
    });
    router.service(Health, deps.health.impl);
    router.service(reflectionV1.ServerReflection, reflection.v1);
    router.service(reflectionV1alpha.ServerReflection, reflection.v1alpha);
  };
}

/**
 * The interceptors, outermost first:
 * 1. tracing (when a tracer provider is registered), outside everything, so the server span covers the whole call and
 *    every log line and Redis call inside it carries its trace id;
 * 2. the RPC log, so it records the code the client sees;
 * 3. the error interceptor, which turns whatever is thrown inside it into that code;
 * 4. authentication and scopes, inside the error interceptor so refusals get
 *    typed details, and before the rate limit so a refused caller spends nothing;
 * 5. the per-IP rate limit, inside the error interceptor so its refusal gets
 *    typed details, and before the handlers so a refused call costs nothing;
 *    for Generate and Verify it only names the limits, and the store charges
 *    them in the call's own step (one round trip, see docs/hot-path.md).
 */
export function createInterceptors(
  deps: Pick<
    RouteDeps,
    | "logger"
    | "observeRpc"
    | "store"
    | "scoped"
    | "limits"
    | "onRateLimited"
    | "hashRateLimitKey"
    | "onRateLimitFailedOpen"
    | "onReason"
    | "admin"
    | "auth"
  >,
): Interceptor[] {
  return [
    // Without a tracer provider (no OTEL_* exporter), spans would be no-ops
    // made and dropped on every call: the interceptor is left out.
    ...(tracingEnabled() ? [createTracingInterceptor()] : []),
    createRpcLogInterceptor(deps.logger, deps.observeRpc),
    createErrorInterceptor(deps.logger, deps.onReason),
    createAuthInterceptor({ admin: deps.admin, ...deps.auth }),
    createRateLimitInterceptor({
      store: deps.store,
      scoped: deps.scoped,
      limits: deps.limits,
      chargeInStore: true,
      hashKey: deps.hashRateLimitKey,
      onRefused: deps.onRateLimited,
      onFailedOpen: deps.onRateLimitFailedOpen,
    }),
  ];
}
