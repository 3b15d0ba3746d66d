import { deferUsage, takeDeferredUsage } from "../core/tenant-scope.js";
import { clientIpContextValues, clientIpKey, createClientIpResolver } from "../http/client-ip.js";
import type { ConsoleGate } from "../http/console-gate.js";
import { withCors } from "../http/cors.js";
import { withJwks } from "../http/jwks.js";
import type { RequestHandler } from "../http/listener.js";
import { withMounts } from "../http/mount.js";
import { withProbes } from "../http/probes.js";
import { createReadiness } from "../http/readiness.js";
import type { TenantQuota } from "../rpc/admin-service.js";
import { callerKey } from "../rpc/caller.js";
import { createHealthService, type HealthService } from "../rpc/health-service.js";
import { authenticate, authorizeSession } from "../rpc/interceptors/auth-interceptor.js";
import { createInterceptors, createRoutes, type RouteDeps, servedServices } from "../rpc/router.js";
import { createRpcHandler } from "../rpc/rpc-handler.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import type { AppContext } from "./app-context.js";
import type { DeliveryParts } from "./delivery.js";
import type { Domains } from "./domains.js";

/**
 * The one request handler of the port, outermost first: provider webhooks
 * (plain HTTP), probes and metrics, the JWKS, CORS, then every RPC through
 * the RPC handler (bounds, credentials, interceptors, services). An
 * AdminService call without a bearer token but with the console's cookie is
 * authenticated by its session, from the headers alone, through `console`.
 */
export function buildHttpHandler(
  app: AppContext,
  domains: Domains,
  delivery: DeliveryParts,
  admin: AdminStore,
  draining: () => boolean,
  consoleGate?: ConsoleGate,
): { handler: RequestHandler; health: HealthService } {
  const { config, logger, metrics, store } = app;
  const health = createHealthService();
  health.setServing(servedServices);
  const deps = routeDeps(app, domains, delivery, admin, health);
  const authOptions = { admin, ...deps.auth };
  const connect = createRpcHandler({
    routes: createRoutes(deps),
    interceptors: createInterceptors(deps),
    contextValues: clientIpContextValues(createClientIpResolver(config.trustedProxies)),
    authenticate: async (procedure, headers, values) => {
      const caller =
        consoleGate?.usesSession(procedure, headers) === true
          ? authorizeSession(
              procedure,
              await consoleGate.sessionForCall(headers, values.get(clientIpKey)),
            )
          : await authenticate(authOptions, procedure, headers);
      if (caller !== undefined) values.set(callerKey, caller);
    },
    readMaxBytes: config.maxRequestBytes,
    logger,
    observe: deps.observeRpc,
    onReason: deps.onReason,
  });
  // Provider webhooks first: they are plain HTTP, neither RPCs nor browser calls.
  const handler = withMounts(
    withProbes(
      withJwks(
        withCors(connect, {
          origins: config.corsOrigins,
          // Origins listed on live publishable keys are answered too.
          isAllowed: (origin) => admin.isOriginAllowed(origin),
        }),
        () => domains.signer.jwks(),
      ),
      {
        // Ready only while every shard or Cluster master answers (see docs/scaling-and-redis.md).
        ready: createReadiness({ check: () => store.ping(), draining }),
        metrics: () => metrics.render(),
      },
    ),
    delivery.providers.mounts,
  );

  return { handler, health };
}

/** What the router and the interceptors are built from: the domains, and how calls are counted and logged. */
function routeDeps(
  app: AppContext,
  domains: Domains,
  delivery: DeliveryParts,
  admin: AdminStore,
  health: HealthService,
): RouteDeps {
  const { config, logger, metrics, store, now, countUsage } = app;
  const { challenges, totp, signer, deliveries } = domains;
  const { dispatcher } = delivery;
  const countDeferredUsage = () => {
    for (const counter of takeDeferredUsage()) countUsage(counter);
  };
  return {
    challenges,
    totp,
    signer,
    now,
    delivery: {
      store,
      dispatcher,
      service: deliveries,
      outboxEnabled: config.outboxEnabled,
      now,
    },
    health,
    logger,
    store,
    admin,
    auth: {
      requireKey: config.requireApiKey,
      adminToken: config.adminToken,
      // Counted by the call's store step when it makes one (Generate, Verify),
      // so the count costs no round trip; otherwise when the call ends.
      onCall: (procedure: string) => {
        const counter = `rpc:${procedure.split("/")[1]}`;
        if (deferUsage(counter)) return countDeferredUsage;
        countUsage(counter);
        return undefined;
      },
    },
    limits: config.rateLimits,
    quotas: tenantQuotas(config.rateLimits, delivery.channels),
    onRateLimited: (limit: string) => metrics.rateLimited(limit),
    // The driver's message only: its error object carries the command's keys, which
    // name the caller's address, and the line says no more than which budget went unchecked.
    onRateLimitFailedOpen: (limit: string, err: unknown) => {
      metrics.rateLimitFailedOpen(limit);
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : "";
      logger.warn({ limit, cause }, "rate limit failed open: its Redis node is unreachable");
    },
    onReason: (reason: string, procedure: string) => {
      if (reason === "STORE_UNAVAILABLE") metrics.storeError(procedure);
    },
    observeRpc: (procedure: string, status: string, seconds: number) =>
      metrics.rpcCompleted(procedure, status, seconds),
  };
}

/** The quotas every tenant has, named by their limit bucket, with the usage counters they count. */
function tenantQuotas(
  limits: AppContext["config"]["rateLimits"],
  channels: DeliveryParts["channels"],
): TenantQuota[] {
  const quotas: TenantQuota[] = [];
  const { tenantGenerate, tenantSendsPerChannel } = limits;
  if (tenantGenerate !== "off") {
    quotas.push({
      name: "tenant_generate",
      counters: ["rpc:Generate", "rpc:Resend"],
      ...per(tenantGenerate),
    });
  }
  if (tenantSendsPerChannel !== "off") {
    for (const kind of new Set(channels.map((c) => c.kind))) {
      quotas.push({
        name: `tenant_sends_${kind}`,
        counters: [`sends:${kind}`],
        ...per(tenantSendsPerChannel),
      });
    }
  }
  return quotas;
}

const per = (limit: { points: number; windowMs: number }) => ({
  limit: limit.points,
  windowMs: limit.windowMs,
});
