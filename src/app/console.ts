import { createClientIpResolver } from "../http/client-ip.js";
import { withConsole } from "../http/console.js";
import { type ConsoleGate, createConsoleGate } from "../http/console-gate.js";
import type { RequestHandler } from "../http/listener.js";
import { createRedisConsoleSessionStore } from "../store/redis/console-sessions.js";
import type { AdminStore } from "../tenancy/admin-store.js";
import { type ConsoleSecurityEvent, createConsoleAuth } from "../tenancy/console-auth.js";
import { createMemoryConsoleSessionStore } from "../tenancy/console-session-store.js";
import type { AppContext } from "./app-context.js";

/** The console's parts: the gate AdminService calls with its cookie pass, and the page handler. */
export interface ConsoleParts {
  gate: ConsoleGate;
  /** Wraps the port's handler with `/console` and `/console/session`. */
  wrap(handler: RequestHandler): RequestHandler;
}

/**
 * Builds the console: sessions beside the store (memory, or the same Redis,
 * so every replica shares them), sign-in against the admin credential and
 * the key cache, the sign-in limit in the store's limits, and the security
 * events, which go to `onSecurityEvent` and the log.
 */
export function buildConsole(
  app: AppContext,
  admin: AdminStore,
  onSecurityEvent?: (event: ConsoleSecurityEvent) => void,
): ConsoleParts {
  const { config, logger, opened, store, now } = app;
  const sessions =
    opened.redis === undefined
      ? createMemoryConsoleSessionStore(now)
      : createRedisConsoleSessionStore(opened.redis);
  const auth = createConsoleAuth({
    sessions,
    admin,
    adminToken: config.adminToken,
    limits: store,
    signInLimit: config.console.signInLimit,
    idleMs: config.console.sessionIdleMs,
    maxMs: config.console.sessionMaxMs,
    now,
    onSecurityEvent: (event) => {
      logger.info({ securityEvent: event }, event.type);
      onSecurityEvent?.(event);
    },
  });
  const gate = createConsoleGate({
    auth,
    enabled: config.console.enabled,
    allowedCidrs: config.console.allowedCidrs,
    trustProxyTls: config.console.trustProxyTls,
    sessionMaxMs: config.console.sessionMaxMs,
  });
  if (!config.console.enabled) {
    logger.warn(
      "console off: NODE_ENV=production without CONSOLE_TRUST_PROXY_TLS=true; /console answers 503 (see docs/console.md)",
    );
  }
  const clientIp = createClientIpResolver(config.trustedProxies);
  return {
    gate,
    wrap: (handler) =>
      withConsole(handler, {
        gate,
        clientIp,
        onError: (err) => logger.warn({ err }, "console request failed"),
      }),
  };
}
