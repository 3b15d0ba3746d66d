import { type OpenedStore, openStore } from "./app/open-store.js";
import { createProviders } from "./app/providers.js";
import type { Config } from "./config/index.js";
import { createRecipientVault } from "./core/recipient-vault.js";
import { createSecretBox } from "./core/secret-box.js";
import {
  currentIdempotencyScope,
  currentTenant,
  deferUsage,
  takeDeferredUsage,
} from "./core/tenant-scope.js";
import type { Channel } from "./delivery/channel.js";
import { createDeliveryService } from "./delivery/delivery-service.js";
import { createDispatcher } from "./delivery/dispatcher.js";
import { createOutboxChannel } from "./delivery/outbox/outbox-channel.js";
import { recipientIdentity } from "./delivery/recipient-identity.js";
import type { RecipientPolicy } from "./delivery/recipients.js";
import { createTemplates } from "./delivery/templates.js";
import { clientIpContextValues, createClientIpResolver } from "./http/client-ip.js";
import { withCors } from "./http/cors.js";
import { withDemo } from "./http/demo.js";
import { withJwks } from "./http/jwks.js";
import { createListener } from "./http/listener.js";
import { withMounts } from "./http/mount.js";
import { withProbes } from "./http/probes.js";
import { createReadiness } from "./http/readiness.js";
import { createChallengeService } from "./otp/challenge-service.js";
import { createCodeHasher } from "./otp/code-hasher.js";
import { callerKey } from "./rpc/caller.js";
import { createHealthService } from "./rpc/health-service.js";
import { authenticate } from "./rpc/interceptors/auth-interceptor.js";
import { createInterceptors, createRoutes, servedServices } from "./rpc/router.js";
import { createRpcHandler } from "./rpc/rpc-handler.js";
import { createRedisAdminStore } from "./store/redis/admin-store.js";
import { createRedisChangeFeed } from "./store/redis/change-feed.js";
import type { ChannelKind, Store } from "./store/store.js";
import { createTenantStore } from "./store/tenant-store.js";
import { createLogger, type Logger } from "./telemetry/logger.js";
import { createMetrics, type Metrics } from "./telemetry/metrics.js";
import { createMemoryAdminStore } from "./tenancy/admin-store.js";
import { withKeyCache } from "./tenancy/cached-admin-store.js";
import { createLocalChangeFeed } from "./tenancy/change-feed.js";
import { createTokenSigner, generateSigningKey } from "./tokens/token-signer.js";
import { createTotpService } from "./totp/totp-service.js";
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
}

/** A running service. */
export interface RunningServer {
  /** The base URL, for example `http://127.0.0.1:8080`. */
  url: string;
  port: number;
  config: Config;
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

// How long a replica trusts a key it looked up, behind the change feed that
// tells it of revocations at once; and how long it remembers a key it did not find.
const keyCache = { ttlMs: 30_000, missTtlMs: 5_000, max: 10_000 };

const providerChannels: ChannelKind[] = ["telegram", "sms", "whatsapp", "email"];

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
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const metrics = overrides.metrics ?? createMetrics();
  const now = overrides.now ?? Date.now;
  // Recipients reach Redis only hashed (key names, filters) or sealed (values).
  const vault = createRecipientVault(config.hmacSecrets);
  const opened: OpenedStore =
    overrides.store === undefined
      ? await openStore(config, now, vault)
      : { store: overrides.store, redis: undefined };
  // Every call sees only its own tenant's records (see tenant-store.ts).
  const store = createTenantStore(opened.store, {
    onUsageError: (err) => logger.warn({ err }, "usage not counted"),
  });
  // Usage counters are best effort: a failed count never fails the call it counts.
  const countUsage = (counter: string) => {
    store.incrementUsage(currentTenant() ?? "default", counter, now()).catch((err: unknown) => {
      logger.warn({ err, counter }, "usage not counted");
    });
  };
  const countDeferredUsage = () => {
    for (const counter of takeDeferredUsage()) countUsage(counter);
  };
  const hasher = createCodeHasher(config.hmacSecrets, { scope: currentIdempotencyScope });
  const shutdown = new AbortController();

  // Providers serve the channels they are configured for. In development the
  // outbox stands in for every other channel; in production those are unavailable.
  const d = config.delivery;
  const templates = createTemplates({
    overrides: d.templateOverrides,
    defaultLocale: d.defaultLocale,
  });
  const recipients: RecipientPolicy = {
    sms: { allowedCountries: d.smsAllowedCountries },
    whatsapp: { allowedCountries: d.whatsappAllowedCountries },
  };
  const providers = await createProviders({
    config: d,
    store,
    redis: opened.redis,
    hasher,
    vault,
    templates,
    recipients,
    logger,
    metrics,
    leader: overrides.leader ?? isLeader(),
    now,
  });
  const channels: Channel[] = [...providers.channels];
  const provided = new Set(channels.map((c) => c.kind));
  const standIns = config.outboxEnabled ? providerChannels.filter((k) => !provided.has(k)) : [];
  if (config.outboxEnabled) {
    for (const kind of ["outbox", ...standIns] as const) {
      channels.push(
        createOutboxChannel({
          store,
          kind,
          retentionMs: config.outboxRetentionSeconds * 1000,
          now,
        }),
      );
    }
  }
  const dispatcher = createDispatcher({
    channels,
    outboxStandIns: standIns,
    store,
    templates,
    retentionMs: d.retentionSeconds * 1000,
    fallbackBudgetMs: d.fallbackBudgetMs,
    observe: (channel, outcome) => {
      metrics.delivery(channel, outcome);
      if (outcome === "accepted") countUsage(`sends:${channel}`);
    },
    onError: (channel, err) => logger.warn({ channel, err }, "delivery failed"),
    onRetry: (channel, err, attempt, delayMs) =>
      logger.info({ channel, attempt, delay_ms: delayMs, reason: err.reason }, "delivery retry"),
    admit: async (target) => {
      const { sendsPerRecipient, tenantSendsPerChannel } = config.rateLimits;
      if (sendsPerRecipient !== "off") {
        // Every spelling of one mailbox or number shares one budget, keyed by a keyed hash.
        const identity = recipientIdentity(target.recipient, {
          plusTagDomains: config.plusTagDomains,
        });
        const byRecipient = await store.consume(
          "sends_recipient",
          vault.index("limit-recipient", identity),
          sendsPerRecipient,
        );
        if (!byRecipient.allowed) return byRecipient;
      }
      // The tenant's daily quota per channel; the tenant-scoped store keys it by tenant.
      if (tenantSendsPerChannel === "off") return { allowed: true, retryAfterMs: 0 };
      return store.consume(`tenant_sends_${target.channel}`, "all", tenantSendsPerChannel);
    },
    now,
  });
  const targetRules = {
    recipients,
    telegramSelfDestructDefaultSeconds: d.telegram?.selfDestructDefaultSeconds ?? 0,
  };

  const challenges = createChallengeService({
    store,
    hasher,
    dispatcher,
    targetRules,
    resendCooldownSeconds: config.resendCooldownSeconds,
    maxSends: config.maxSendsPerChallenge,
    retentionSeconds: config.challengeRetentionSeconds,
    now,
    observer: {
      generated: (alphabet) => metrics.challengeGenerated(alphabet),
      verified: (outcome) => metrics.verification(outcome),
      rateLimited: (limit) => metrics.rateLimited(limit),
    },
    verifyPerChallenge: config.rateLimits.verifyPerChallenge,
  });
  const deliveries = createDeliveryService({
    store,
    dispatcher,
    hasher,
    targetRules,
    reportsStatus: providers.reportsStatus,
    telegramLinker: providers.telegramLinker,
    watchPollMs: overrides.watchPollMs,
    watchMaxMs: d.watchMaxSeconds * 1000,
    shutdown: shutdown.signal,
    onRateLimited: (limit) => metrics.rateLimited(limit),
    now,
  });

  const signingKeys = config.tokens.signingKeys ?? [await generateSigningKey()];
  const signer = await createTokenSigner({
    keys: signingKeys,
    issuer: config.tokens.issuer,
    audience: config.tokens.audience,
    ttlSeconds: config.tokens.ttlSeconds,
    bindingSecret: config.hmacSecrets[0] as string,
  });
  const totp = createTotpService({
    store,
    box: createSecretBox(config.totp.encryptionKeys),
    hasher,
    defaultIssuer: config.totp.issuer,
    window: config.totp.window,
    maxFailures: config.totp.maxFailures,
    lockoutSeconds: config.totp.lockoutSeconds,
    pendingSeconds: config.totp.pendingSeconds,
    retentionSeconds: config.totp.retentionSeconds,
    now,
  });

  // Keys are resolved from process memory; a revocation reaches every
  // replica through the change feed (see auth/cached-admin-store.ts).
  const feed =
    opened.redis === undefined
      ? createLocalChangeFeed()
      : createRedisChangeFeed(opened.redis.topology, opened.redis.keyPrefix);
  const admin = await withKeyCache(
    opened.redis === undefined
      ? createMemoryAdminStore()
      : createRedisAdminStore({
          topology: opened.redis.topology,
          keyPrefix: opened.redis.keyPrefix,
        }),
    feed,
    keyCache,
  );

  const health = createHealthService();
  health.setServing(servedServices);
  let draining = false;
  const deps = {
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
  const authOptions = { admin, ...deps.auth };
  const connect = createRpcHandler({
    routes: createRoutes(deps),
    interceptors: createInterceptors(deps),
    contextValues: clientIpContextValues(createClientIpResolver(config.trustedProxies)),
    authenticate: async (procedure, headers, values) => {
      const caller = await authenticate(authOptions, procedure, headers);
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
        () => signer.jwks(),
      ),
      {
        // Ready only while every shard or Cluster master answers (see README, Faults).
        ready: createReadiness({ check: () => store.ping(), draining: () => draining }),
        metrics: () => metrics.render(),
      },
    ),
    providers.mounts,
  );

  const listener = createListener({
    http2IdleTimeoutMs: config.http2IdleTimeoutMs,
    handler:
      config.mode === "development"
        ? withDemo(handler, { onError: (err) => logger.warn({ err }, "demo page build failed") })
        : handler,
  });
  const { port } = await listener.listen(config.port, config.host);
  providers.start();
  const shownHost = config.host === "0.0.0.0" || config.host === "::" ? "localhost" : config.host;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${shownHost.includes(":") ? `[${shownHost}]` : shownHost}:${port}`,
    port,
    config,
    store,
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
        await feed.close();
        await store.close();
      })();
      return closing;
    },
  };
}
