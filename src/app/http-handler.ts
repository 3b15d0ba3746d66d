import { Code } from "@connectrpc/connect";
import { createRefusalBursts } from "../audit/refusal-bursts.js";
import { type Reason, reasonCodes } from "../core/reasons.js";
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
import { refusedAdminEvent, refusedKeyEvent } from "../rpc/audit-context.js";
import { callerKey } from "../rpc/caller.js";
import { createHealthService, type HealthService } from "../rpc/health-service.js";
import { authenticate, authorizeSession } from "../rpc/interceptors/auth-interceptor.js";
import { createInterceptors, createRoutes, type RouteDeps, servedServices } from "../rpc/router.js";
import { createRpcHandler } from "../rpc/rpc-handler.js";
import type { AdminParts } from "./admin.js";
import type { AppContext } from "./app-context.js";
import type { DeliveryParts } from "./delivery.js";
import type { Domains } from "./domains.js";
import { webhookExtras } from "./events.js";

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
  adminParts: AdminParts,
  life: { draining: () => boolean; shutdown: AbortSignal },
  consoleGate?: ConsoleGate,
): { handler: RequestHandler; health: HealthService } {
  const { config, logger, metrics, store } = app;
  const { admin } = adminParts;
  const { draining } = life;
  const health = createHealthService();
  health.setServing(servedServices);
  const deps = routeDeps(app, domains, delivery, adminParts, health);
  deps.adminExtras.shutdown = life.shutdown;
  deps.activity.shutdown = life.shutdown;
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
          : await authenticate(authOptions, procedure, headers, values);
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

/**
 * Told the reason of every refusal: counted in metrics and the activity
 * feed, and, when they come in bursts, audited (see audit/refusal-bursts.ts).
 */
function observeRefusals(
  app: AppContext,
  audit: AdminParts["audit"],
): (reason: string, procedure: string, tenantId?: string) => void {
  const { config, metrics, now } = app;
  const burst = config.audit.refusalBurst;
  const bursts =
    burst === "off"
      ? undefined
      : createRefusalBursts({
          threshold: burst.points,
          windowMs: burst.windowMs,
          onBurst: audit.recordSecurityEvent,
          now,
        });
  return (reason, procedure, tenantId) => {
    if (reason === "STORE_UNAVAILABLE") metrics.storeError(procedure);
    app.activity.refused(reason, tenantId);
    // Refusals that say someone is pushing against a limit or a credential.
    if (bursts !== undefined && burstReasons.has(reasonCodes[reason as Reason])) {
      bursts.refused(reason, tenantId ?? "");
    }
  };
}

const burstReasons = new Set<Code>([
  Code.ResourceExhausted,
  Code.Unauthenticated,
  Code.PermissionDenied,
]);

/** What AdminService needs beyond the admin store: the trail, pending key uses, webhooks, key expiry. */
function adminExtras(app: AppContext, adminParts: AdminParts): RouteDeps["adminExtras"] {
  const { audit, trail, keyUses, keyExpiry } = adminParts;
  return {
    audit,
    trail,
    pendingUse: keyUses.pending,
    events: webhookExtras(app),
    ...(keyExpiry === undefined ? {} : { scheduleKeyExpiry: keyExpiry.schedule }),
  };
}

/** What the router and the interceptors are built from: the domains, and how calls are counted and logged. */
function routeDeps(
  app: AppContext,
  domains: Domains,
  delivery: DeliveryParts,
  adminParts: AdminParts,
  health: HealthService,
): RouteDeps {
  const { admin, audit } = adminParts;
  const { config, logger, metrics, store, now } = app;
  const { challenges, totp, signer, deliveries } = domains;
  const { dispatcher } = delivery;
  return {
    challenges,
    totp,
    signer,
    now,
    delivery: {
      outbox: app.stores.scoped,
      dispatcher,
      service: deliveries,
      outboxEnabled: config.outboxEnabled,
      now,
    },
    health,
    logger,
    store,
    scoped: app.stores.scoped,
    admin,
    activity: {
      service: app.activity.service,
      feed: app.activity.feed,
      nodes: app.activity.nodes,
      dispatcher,
      system: { ...app.system, replica: app.activity.replica },
      now,
    },
    adminExtras: adminExtras(app, adminParts),
    auth: authDeps(app, adminParts),
    limits: config.rateLimits,
    quotas: tenantQuotas(config.rateLimits, delivery.channels),
    onRateLimited: (limit, tenantId) => metrics.rateLimited(limit, tenantId),
    // Caller-supplied rate-limit keys name counters only as a keyed hash.
    hashRateLimitKey: (bucket, key) => app.hasher.digest("rate-limit-key", `${bucket}\0${key}`),
    // The driver's message only: its error object carries the command's keys, which
    // name the caller's address, and the line says no more than which budget went unchecked.
    onRateLimitFailedOpen: (limit: string, err: unknown) => {
      metrics.rateLimitFailedOpen(limit);
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : "";
      logger.warn({ limit, cause }, "rate limit failed open: its Redis node is unreachable");
    },
    onReason: observeRefusals(app, audit),
    observeRpc: (procedure: string, status: string, seconds: number, tenantId?: string) => {
      metrics.rpcCompleted(procedure, status, seconds);
      app.activity.rpc(procedure, status, seconds, tenantId);
    },
  };
}

/** How the auth interceptor reports keys used and refused, and counts calls. */
function authDeps(app: AppContext, adminParts: AdminParts): RouteDeps["auth"] {
  const { config, now, countUsage } = app;
  const { audit, keyUses } = adminParts;
  return {
    requireKey: config.requireApiKey,
    adminToken: config.adminToken,
    now,
    // A map write per call; the batch goes to the store on a timer (tenancy/key-use.ts).
    onKeyUsed: keyUses.touch,
    // Rate-limited per key and minute by the recorder: a flood writes a bounded number of entries.
    onKeyRefused: (key, why, procedure, values) =>
      audit.recordSecurityEvent(refusedKeyEvent(key, why, procedure, values)),
    onAdminRefused: (procedure, values) =>
      audit.recordSecurityEvent(refusedAdminEvent(procedure, values)),
    // Counted by the call's store step when it makes one (Generate, Verify),
    // so the count costs no round trip; otherwise when the call ends.
    onCall: (procedure, scope) => deferUsage(scope, usageCounterOf(procedure)),
    onCallDone: (scope) => {
      for (const counter of takeDeferredUsage(scope)) countUsage(counter, scope.tenantId);
    },
  };
}

// "rpc:Generate" for "otp.v1.OtpService/Generate": made once per procedure.
const usageCounters = new Map<string, string>();
function usageCounterOf(procedure: string): string {
  let counter = usageCounters.get(procedure);
  if (counter === undefined) {
    counter = `rpc:${procedure.split("/")[1]}`;
    usageCounters.set(procedure, counter);
  }
  return counter;
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
