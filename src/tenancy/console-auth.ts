import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ipLimitKey } from "../core/ip-limit-key.js";
import { maskAddress } from "../core/mask-address.js";
import type { AdminStore, ApiKeyRecord, Credential, ScopeName } from "./admin-store.js";
import { hashApiKey, parseApiKey } from "./api-key.js";
import type {
  ConsoleSessionKind,
  ConsoleSessionRecord,
  ConsoleSessionStore,
} from "./console-session-store.js";
import type { LimitStore, RateLimit } from "./limit-store.js";

/** What the console reports for the audit trail (the lead wires it there); never a credential. */
export interface ConsoleSecurityEvent {
  type:
    | "console.sign_in"
    | "console.sign_in_failed"
    | "console.sign_in_limited"
    | "console.sign_out"
    | "console.request_refused";
  /** "operator", the key id, or "unknown" for a credential that matched nothing. */
  actor: string;
  /** The key's tenant; "" for the operator and unknown credentials. */
  tenantId: string;
  /** The caller's network, masked (see core/mask-address.ts). */
  source: string;
  /** Why, for refusals: "bad_credential", "not_admin_key", "rate_limited", "cross_site", "csrf", "network", "no_session". */
  reason?: string;
  atMs: number;
}

/** A live console session, with the scopes of the key it was opened with. */
export interface ConsoleSession {
  kind: ConsoleSessionKind;
  tenantId: string;
  keyId: string;
  scopes: readonly ScopeName[];
  expiresAtMs: number;
}

/** The outcome of {@link ConsoleAuth.signIn}. */
export type SignInResult =
  | { ok: true; sessionId: string; csrfToken: string; session: ConsoleSession }
  | { ok: false; reason: "bad_credential" }
  | { ok: false; reason: "rate_limited"; retryAfterMs: number };

/** Options for {@link createConsoleAuth}. */
export interface ConsoleAuthOptions {
  sessions: ConsoleSessionStore;
  /** Finds admin keys by hash (the service passes its key cache). */
  admin: Pick<AdminStore, "findCredential">;
  /** The operator's credential; undefined lets only tenant keys sign in. */
  adminToken: string | undefined;
  /** Where sign-in attempts per address are counted. */
  limits: LimitStore;
  signInLimit: RateLimit | "off";
  idleMs: number;
  maxMs: number;
  now?: () => number;
  /** Told of every sign-in, failure, lock-out, sign-out and refused session request. */
  onSecurityEvent?: (event: ConsoleSecurityEvent) => void;
}

/** Console sign-in, sessions and sign-out (see {@link createConsoleAuth}). */
export interface ConsoleAuth {
  /** Exchanges ADMIN_TOKEN or an admin-scoped secret key for a new session. */
  signIn(credential: string, ip: string): Promise<SignInResult>;
  /** The live session of a cookie's session id, its idle time restarted; undefined otherwise. */
  resolve(sessionId: string): Promise<ConsoleSession | undefined>;
  /** Ends a session on every replica. */
  signOut(sessionId: string, ip: string): Promise<void>;
  /** The CSRF token bound to a session id. */
  csrfTokenFor(sessionId: string): string;
  /** Whether `token` is the CSRF token of this session id, compared in constant time. */
  checkCsrf(sessionId: string, token: string): boolean;
  /** Reports a refused session request (cross-site, no CSRF token, outside the allowed networks). */
  refused(reason: string, ip: string, session?: ConsoleSession): void;
}

const sessionIdPattern = /^[A-Za-z0-9_-]{43}$/;
const adminScopes: readonly ScopeName[] = ["admin", "admin-read"];
const maxCredentialLength = 256;

/** The stored name of a session: the SHA-256 of its id, so a read of the store opens no session. */
export function hashSessionId(sessionId: string): string {
  return createHash("sha256").update(sessionId).digest("hex");
}

/**
 * Console sign-in for a security review: the operator's ADMIN_TOKEN
 * (compared in constant time) or a live secret key holding `admin` or
 * `admin-read` is exchanged for a random 256-bit session id, stored only as
 * its hash, that ends when idle and at an absolute time. A tenant session is
 * checked against its key on every use, so revoking the key ends it. Every
 * attempt, right or wrong, spends one hit of the per-address sign-in limit
 * first, so failures lock an address out. The CSRF token is an HMAC of the
 * session id: bound to the session, unknowable without the HttpOnly cookie.
 *
 * @example
 * const auth = createConsoleAuth({ sessions, admin, adminToken, limits, signInLimit, idleMs, maxMs });
 * const result = await auth.signIn(token, "203.0.113.7");
 */
export function createConsoleAuth(options: ConsoleAuthOptions): ConsoleAuth {
  const { sessions, admin, idleMs, maxMs } = options;
  const now = options.now ?? Date.now;
  const emit = (event: Omit<ConsoleSecurityEvent, "atMs" | "source">, ip: string) =>
    options.onSecurityEvent?.({ ...event, source: maskAddress(ip), atMs: now() });
  const csrfTokenFor = (sessionId: string) =>
    createHmac("sha256", sessionId).update("otp-console-csrf").digest("base64url");

  const open = async (kind: ConsoleSessionKind, key: ApiKeyRecord | undefined) => {
    const sessionId = randomBytes(32).toString("base64url");
    const createdAtMs = now();
    const record: ConsoleSessionRecord = {
      kind,
      tenantId: key?.tenantId ?? "",
      keyId: key?.id ?? "admin",
      keyHash: key?.hash ?? "",
      createdAtMs,
      expiresAtMs: createdAtMs + maxMs,
    };
    await sessions.create(hashSessionId(sessionId), record, idleMs);
    return { sessionId, csrfToken: csrfTokenFor(sessionId), session: sessionOf(record, key) };
  };

  return {
    signIn: (credential, ip) => signIn({ options, emit, open }, credential, ip),

    async resolve(sessionId) {
      if (!sessionIdPattern.test(sessionId)) return undefined;
      const idHash = hashSessionId(sessionId);
      const record = await sessions.touch(idHash, now(), idleMs);
      if (record === undefined) return undefined;
      if (record.kind === "operator") return sessionOf(record, undefined);
      const key = liveKey(await admin.findCredential(record.keyHash), now());
      if (!isLiveAdminKey(key, record.keyId)) {
        await sessions.delete(idHash);
        return undefined;
      }
      return sessionOf(record, key);
    },

    async signOut(sessionId, ip) {
      if (!sessionIdPattern.test(sessionId)) return;
      const idHash = hashSessionId(sessionId);
      const record = await sessions.touch(idHash, now(), idleMs);
      await sessions.delete(idHash);
      if (record !== undefined) {
        emit({ type: "console.sign_out", actor: actorOf(record), tenantId: record.tenantId }, ip);
      }
    },

    csrfTokenFor,
    checkCsrf: (sessionId, token) => sameSecret(token, csrfTokenFor(sessionId)),

    refused(reason, ip, session) {
      emit(
        {
          type: "console.request_refused",
          actor: session === undefined ? "unknown" : actorOf(session),
          tenantId: session?.tenantId ?? "",
          reason,
        },
        ip,
      );
    },
  };
}

type Emit = (event: Omit<ConsoleSecurityEvent, "atMs" | "source">, ip: string) => void;
type Open = (
  kind: ConsoleSessionKind,
  key: ApiKeyRecord | undefined,
) => Promise<{ sessionId: string; csrfToken: string; session: ConsoleSession }>;

// One sign-in attempt: the limit first, then the operator's token, then an admin key.
async function signIn(
  ctx: { options: ConsoleAuthOptions; emit: Emit; open: Open },
  credential: string,
  ip: string,
): Promise<SignInResult> {
  const { options, emit, open } = ctx;
  const admin = options.admin;
  if (options.signInLimit !== "off") {
    const spent = await options.limits.consume(
      "console_sign_in",
      ipLimitKey(ip),
      options.signInLimit,
    );
    if (!spent.allowed) {
      emit(
        {
          type: "console.sign_in_limited",
          actor: "unknown",
          tenantId: "",
          reason: "rate_limited",
        },
        ip,
      );
      return { ok: false, reason: "rate_limited", retryAfterMs: spent.retryAfterMs };
    }
  }
  if (options.adminToken !== undefined && sameSecret(credential, options.adminToken)) {
    const opened = await open("operator", undefined);
    emit({ type: "console.sign_in", actor: "operator", tenantId: "" }, ip);
    return { ok: true, ...opened };
  }
  const key = await adminKey(admin, credential, (options.now ?? Date.now)());
  if (key === undefined || !key.scopes.some((s) => adminScopes.includes(s))) {
    emit(
      {
        type: "console.sign_in_failed",
        actor: key?.id ?? "unknown",
        tenantId: key?.tenantId ?? "",
        reason: key === undefined ? "bad_credential" : "not_admin_key",
      },
      ip,
    );
    return { ok: false, reason: "bad_credential" };
  }
  const opened = await open("tenant", key);
  emit({ type: "console.sign_in", actor: key.id, tenantId: key.tenantId }, ip);
  return { ok: true, ...opened };
}

async function adminKey(
  admin: Pick<AdminStore, "findCredential">,
  credential: string,
  nowMs: number,
): Promise<ApiKeyRecord | undefined> {
  if (credential.length > maxCredentialLength) return undefined;
  const parsed = parseApiKey(credential);
  if (parsed === undefined || parsed.kind !== "secret") return undefined;
  const key = liveKey(await admin.findCredential(hashApiKey(credential)), nowMs);
  return key !== undefined && key.id === parsed.id ? key : undefined;
}

/**
 * The key of a credential that may still act: not revoked, deleted or
 * expired, and its tenant neither deleted nor suspended. A session opened
 * with a key ends with the first request after any of these.
 */
function liveKey(found: Credential | undefined, nowMs: number): ApiKeyRecord | undefined {
  if (found === undefined || found.tenant === undefined) return undefined;
  const { key, tenant } = found;
  if (key.revokedAtMs !== 0 || (key.deletedAtMs ?? 0) > 0) return undefined;
  if (key.expiresAtMs !== undefined && key.expiresAtMs > 0 && nowMs >= key.expiresAtMs) {
    return undefined;
  }
  if ((tenant.suspendedAtMs ?? 0) > 0) return undefined;
  return key;
}

function isLiveAdminKey(key: ApiKeyRecord | undefined, keyId: string): key is ApiKeyRecord {
  return (
    key !== undefined &&
    key.id === keyId &&
    key.revokedAtMs === 0 &&
    key.scopes.some((s) => adminScopes.includes(s))
  );
}

function sessionOf(record: ConsoleSessionRecord, key: ApiKeyRecord | undefined): ConsoleSession {
  return {
    kind: record.kind,
    tenantId: record.tenantId,
    keyId: record.keyId,
    scopes: key?.scopes.filter((s) => adminScopes.includes(s)) ?? [],
    expiresAtMs: record.expiresAtMs,
  };
}

function actorOf(session: { kind: ConsoleSessionKind; keyId: string }): string {
  return session.kind === "operator" ? "operator" : session.keyId;
}

function sameSecret(a: string, b: string): boolean {
  const x = createHash("sha256").update(a).digest();
  const y = createHash("sha256").update(b).digest();
  // Hashing first keeps the comparison constant-time whatever the lengths.
  return timingSafeEqual(x, y) && a === b;
}
