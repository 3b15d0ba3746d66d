import type { AuditRecorder } from "../audit/audit-recorder.js";
import { createClientIpResolver } from "../http/client-ip.js";
import { withConsole } from "../http/console.js";
import { type ConsoleGate, createConsoleGate } from "../http/console-gate.js";
import type { RequestHandler } from "../http/listener.js";
import { createRedisConsoleSessionStore } from "../store/redis/console-sessions.js";
import { type ConsoleSecurityEvent, createConsoleAuth } from "../tenancy/console-auth.js";
import { createMemoryConsoleSessionStore } from "../tenancy/console-session-store.js";
import type { AdminParts } from "./admin.js";
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
  adminParts: Pick<AdminParts, "admin" | "audit">,
  onSecurityEvent?: (event: ConsoleSecurityEvent) => void,
): ConsoleParts {
  const { config, logger, opened, store, now } = app;
  const { admin, audit } = adminParts;
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
      auditConsoleEvent(audit, event);
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

/**
 * Writes a console security event to the audit trail: every sign-in and
 * sign-out; failures, lock-outs and refused session calls as security
 * events, at most once per kind and source network a minute, so a guessing
 * flood writes a bounded number of entries (the log keeps every one).
 */
function auditConsoleEvent(audit: AuditRecorder, event: ConsoleSecurityEvent): void {
  const actor =
    event.actor === "operator"
      ? ({ kind: "operator", id: "admin" } as const)
      : ({ kind: "api-key", id: event.actor } as const);
  const refused = event.type !== "console.sign_in" && event.type !== "console.sign_out";
  const details: Record<string, string> = {};
  if (event.reason !== undefined) details.reason = event.reason;
  const entry = {
    actor,
    tenantId: event.tenantId,
    action: event.type,
    target: refused ? event.source : event.actor,
    outcome: refused ? ("refused" as const) : ("success" as const),
    sourceAddress: event.source,
    details,
  };
  if (refused) audit.recordSecurityEvent(entry);
  else void audit.record({ ...entry, requestId: "" });
}
