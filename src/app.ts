import { openActivity, withActivity } from "./app/activity.js";
import { type AdminParts, openAdmin } from "./app/admin.js";
import type { AppContext } from "./app/app-context.js";
import { startCodeExpiries, startFallbacks, startKeyExpiryWatch } from "./app/background-timers.js";
import { buildConsole } from "./app/console.js";
import { buildDelivery } from "./app/delivery.js";
import { buildDomains } from "./app/domains.js";
import { withEvents } from "./app/event-emission.js";
import { openEvents, startWebhookWorker } from "./app/events.js";
import { openFraudGuard } from "./app/fraud.js";
import { createFraudOverrides } from "./app/fraud-overrides.js";
import { buildHttpHandler } from "./app/http-handler.js";
import { type OpenedStore, openStore } from "./app/open-store.js";
import { processStartedAtMs, serviceVersion } from "./app/system-info.js";
import type { AuditInput } from "./audit/audit-trail.js";
import type { Config } from "./config/index.js";
import { createRecipientVault } from "./core/recipient-vault.js";
import type { Channel } from "./delivery/channel.js";
import { withDemo } from "./http/demo.js";
import { createListener } from "./http/listener.js";
import { createCodeHasher } from "./otp/code-hasher.js";
import type { Store } from "./store/store.js";
import { createTenantStore } from "./store/tenant-store.js";
import { createLogger, type Logger } from "./telemetry/logger.js";
import { createMetrics, type Metrics } from "./telemetry/metrics.js";
import type { ConsoleSecurityEvent } from "./tenancy/console-auth.js";
import { isLeader } from "./workers.js";

/** Dependencies a test may replace; everything else comes from the config. */
export interface ServerOverrides {
  store?: Store;
  logger?: Logger;
  metrics?: Metrics;
  now?: () => number;
  /** Whether this process polls Telegram and registers its webhook; worker 1 or a single process by default. */
  leader?: boolean;
  /** How often WatchDelivery reads the store, in milliseconds; 200 by default. */
  watchPollMs?: number;
  /** How often the activity counters are written, in milliseconds; 1,000 by default. */
  activityFlushMs?: number;
  /** Told of console sign-ins, failures, lock-outs, sign-outs and refused session calls (besides the audit trail). */
  onSecurityEvent?: (event: ConsoleSecurityEvent) => void;
}

/** A running service. */
export interface RunningServer {
  /** The base URL, for example `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  config: Config;
  /** The store as opened (memory or Redis), under the tenant scoping and the event emission. */
  store: Store;
  /** True when the token signing key was generated at start (development). */
  signingKeyGenerated: boolean;
  /** The channels in use, for the banner and tests. */
  channels: readonly Channel[];
  /** Lines about the delivery set-up for the banner, such as where webhooks are served. */
  deliveryNotes: readonly string[];
  /** Stops taking calls, drains the ones in flight for up to the grace period, closes the store. */
  close(): Promise<void>;
}

/**
 * Builds and starts the service: config -> store -> domain -> routes ->
 * listener. Tests call this with port 0 and talk to the returned URL.
 *
 * @example
 * const server = await startServer(loadConfig({ PORT: "0" }));
 * await server.close();
 */
export async function startServer(
  config: Config,
  overrides: ServerOverrides = {},
): Promise<RunningServer> {
  const app = await openContext(config, overrides);
  const { logger, store } = app;
  const shutdown = new AbortController();
  const adminParts = await openAdminParts(app);
  // The guard against SMS pumping reports its blocks to the audit trail, so it opens after it.
  const fraud = openFraudGuardWithSettings(app, adminParts);
  const delivery = await buildDelivery(app, fraud);
  const { providers, channels } = delivery;
  const domains = await buildDomains(app, delivery, {
    watchPollMs: overrides.watchPollMs,
    shutdown: shutdown.signal,
    audit: adminParts.audit,
    fraud,
  });
  const events = startWebhookWorker(app, adminParts.audit);
  adminParts.keyExpiry = startKeyExpiryWatch(app, adminParts);
  const fallbacks = startFallbacks(app, domains, adminParts);
  const expiries = startCodeExpiries(app, domains);
  let draining = false;
  const consoleParts = buildConsole(app, adminParts, overrides.onSecurityEvent);
  const { handler, health } = buildHttpHandler(
    app,
    domains,
    delivery,
    adminParts,
    { draining: () => draining, shutdown: shutdown.signal },
    consoleParts.gate,
  );
  const served = consoleParts.wrap(handler);

  const listener = createListener({
    http2IdleTimeoutMs: config.http2IdleTimeoutMs,
    handler:
      config.mode === "development"
        ? withDemo(served, { onError: (err) => logger.warn({ err }, "demo page build failed") })
        : served,
  });
  const { port } = await listener.listen(config.port, config.host);
  providers.start();
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    config,
    store: app.opened.store,
    channels,
    deliveryNotes: providers.notes,
    signingKeyGenerated: config.tokens.signingKeys === undefined,
    close() {
      closing ??= (async () => {
        draining = true;
        health.shutdown();
        // Open WatchDelivery streams end now, so their clients reconnect elsewhere.
        shutdown.abort();
        await listener.close(config.shutdownGraceMs);
        await providers.stop();
        await fraud?.close();
        // The last events are flushed before the store closes.
        await events.stop();
        await adminParts.keyExpiry?.stop();
        await fallbacks.stop();
        await expiries.stop();
        await adminParts.close();
        // The last counts and events go out before the store closes.
        await app.activity.close();
        await store.close();
        app.metrics.stop();
      })();
      return closing;
    },
  };
}

/** Tenants, keys and the audit trail, every entry of which also shows in the live activity feed. */
function openAdminParts(app: AppContext) {
  return openAdmin(app.opened, {
    audit: app.config.audit,
    logger: app.logger,
    now: app.now,
    // Every admin change and security event also shows in the live activity feed.
    onAudit: (entry) => publishAudit(app, entry),
  });
}

/** The logger, metrics, clock, store (scoped to the call's tenant) and keys every part is built from. */
async function openContext(config: Config, overrides: ServerOverrides): Promise<AppContext> {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const now = overrides.now ?? Date.now;
  // Recipients reach Redis only hashed (key names, filters) or sealed (values).
  const vault = createRecipientVault(config.hmacSecrets);
  const opened: OpenedStore =
    overrides.store === undefined
      ? await openStore(config, now, vault)
      : { store: overrides.store, redis: undefined };
  const activity = openActivity(opened, { logger, now, flushMs: overrides.activityFlushMs });
  // Deliveries and refusals are counted for the console at the same calls as for /metrics.
  const metrics = withActivity(overrides.metrics ?? createMetrics({ runtime: true }), activity);
  const events = openEvents(opened, config, logger, now);
  // Every call sees only its own tenant's records (see tenant-store.ts); each
  // state change is handed to the event buffer (see app/event-emission.ts).
  const stores = createTenantStore(withEvents(opened.store, events.emitter), {
    onUsageError: (err) => logger.warn({ err }, "usage not counted"),
  });
  const store = stores.unscoped;
  // Usage counters are best effort: a failed count never fails the call it counts.
  const countUsage = (counter: string, tenantId: string | undefined) => {
    store.incrementUsage(tenantId ?? "default", counter, now()).catch((err: unknown) => {
      logger.warn({ err, counter }, "usage not counted");
    });
  };
  const hasher = createCodeHasher(config.hmacSecrets);
  return {
    config,
    logger,
    metrics,
    now,
    vault,
    store,
    stores,
    opened,
    hasher,
    countUsage,
    events,
    leader: overrides.leader ?? isLeader(),
    activity,
    system: {
      version: serviceVersion(),
      startedAtMs: processStartedAtMs(),
      workers: config.workers,
    },
  };
}

/** An admin change or security event, as the live activity feed shows it. */
function publishAudit(app: AppContext, entry: AuditInput): void {
  app.activity.publishAdmin({
    tenantId: entry.tenantId,
    action: entry.action,
    target: entry.target,
    actor: entry.actor.kind === "operator" ? "operator" : entry.actor.id,
    outcome: entry.outcome,
  });
}

/** The guard against SMS pumping, with each tenant's own thresholds from its settings. */
function openFraudGuardWithSettings(app: AppContext, adminParts: AdminParts) {
  return openFraudGuard(
    app,
    adminParts.audit,
    // Kept current by the change feed: a tenant's change reaches every replica.
    createFraudOverrides({
      admin: adminParts.admin,
      feed: adminParts.feed,
      onError: (err) =>
        app.logger.warn(
          { cause: err instanceof Error ? err.name : "error" },
          "fraud settings not read",
        ),
    }),
  );
}
