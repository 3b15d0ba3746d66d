import type { ConsoleSession } from "../tenancy/console-auth.js";
import type { IncomingRequest } from "./client-ip.js";
import { type ConsoleGate, crossSiteReason, csrfHeader } from "./console-gate.js";
import type { RequestHandler } from "./listener.js";
import { sendPage } from "./page-bundle.js";

/** Where the console exchanges a credential for a session (POST), reads it (GET) and ends it (DELETE). */
export const sessionPath = "/console/session";

/** The longest sign-in body read: a JSON object holding one credential. */
const maxSignInBytes = 2048;

type Response = Parameters<RequestHandler>[1];

const noStore = { "cache-control": "no-store", "x-content-type-options": "nosniff" };

function json(res: Response, status: number, body: unknown, headers: Record<string, string> = {}) {
  sendPage(
    res,
    status,
    { "content-type": "application/json; charset=utf-8", ...noStore, ...headers },
    JSON.stringify(body),
  );
}

/** Reads request headers as `Headers` does, for the gate's checks. */
export function headersOf(req: IncomingRequest): { get(name: string): string | null } {
  return {
    get(name) {
      const value = req.headers[name];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

function describe(session: ConsoleSession, csrfToken: string) {
  return {
    kind: session.kind,
    tenantId: session.tenantId,
    keyId: session.keyId,
    scopes: session.scopes,
    expiresAt: new Date(session.expiresAtMs).toISOString(),
    csrfToken,
  };
}

/**
 * Answers `/console/session`. The caller's address has been checked against
 * CONSOLE_ALLOWED_CIDRS already.
 * - `POST` with `{"credential": "..."}` (JSON, same origin only) signs in:
 *   200 with the session and its CSRF token, and the HttpOnly cookie; 401
 *   for a wrong credential; 429 with `Retry-After` past the sign-in limit.
 * - `GET` (same origin) tells the page who is signed in, and the CSRF token
 *   again after a reload; 401 without a live session.
 * - `DELETE` (same origin, with the CSRF token) ends the session on every
 *   replica and clears the cookie; 204.
 */
export function answerSession(
  gate: ConsoleGate,
  req: IncomingRequest,
  res: Response,
  ip: string,
  onError: (err: unknown) => void = () => {},
) {
  const headers = headersOf(req);
  const host = headers.get("host");
  if (crossSiteReason(headers, req.method === "GET") !== undefined) {
    gate.auth.refused("cross_site", ip);
    json(res, 403, { error: "cross_site" });
    return;
  }
  const sessionId = gate.sessionIdOf(headers);
  // The store could not be reached: the log gets the error, the page a plain answer.
  const fail = (err: unknown) => {
    onError(err);
    json(res, 503, { error: "unavailable" });
  };
  switch (req.method) {
    case "POST":
      signIn(gate, req, res, ip).catch(fail);
      return;
    case "GET":
      gate.auth.resolve(sessionId).then((session) => {
        if (session === undefined) {
          json(res, 401, { error: "no_session" });
          return;
        }
        json(res, 200, describe(session, gate.auth.csrfTokenFor(sessionId)));
      }, fail);
      return;
    case "DELETE": {
      if (!gate.auth.checkCsrf(sessionId, headers.get(csrfHeader) ?? "")) {
        gate.auth.refused("csrf", ip);
        json(res, 403, { error: "csrf" });
        return;
      }
      gate.auth.signOut(sessionId, ip).then(() => {
        sendPage(res, 204, { ...noStore, "set-cookie": gate.clearedCookie(host) });
      }, fail);
      return;
    }
    default:
      sendPage(
        res,
        405,
        { allow: "GET, POST, DELETE", "content-type": "text/plain" },
        "method not allowed\n",
      );
  }
}

async function signIn(gate: ConsoleGate, req: IncomingRequest, res: Response, ip: string) {
  const type = String(req.headers["content-type"] ?? "");
  if (!type.toLowerCase().startsWith("application/json")) {
    json(res, 415, { error: "content_type" });
    return;
  }
  const body = await readBody(req, maxSignInBytes);
  if (body === undefined) {
    json(res, 413, { error: "too_large" });
    return;
  }
  let credential: unknown;
  try {
    credential = (JSON.parse(body) as { credential?: unknown }).credential;
  } catch {
    credential = undefined;
  }
  if (typeof credential !== "string" || credential === "") {
    json(res, 400, { error: "credential_required" });
    return;
  }
  const result = await gate.auth.signIn(credential, ip);
  // A session the browser still holds ends when a new one starts: one cookie, one session.
  const previous = gate.sessionIdOf(headersOf(req));
  if (result.ok && previous !== "") await gate.auth.signOut(previous, ip);
  if (!result.ok) {
    if (result.reason === "rate_limited") {
      const seconds = Math.max(1, Math.ceil(result.retryAfterMs / 1000));
      json(
        res,
        429,
        { error: "rate_limited", retryAfterSeconds: seconds },
        { "retry-after": String(seconds) },
      );
      return;
    }
    json(res, 401, { error: "bad_credential" });
    return;
  }
  json(res, 200, describe(result.session, result.csrfToken), {
    "set-cookie": gate.sessionCookie(result.sessionId, headersOf(req).get("host")),
  });
}

// The body as text, or undefined once it passes `max` bytes (the rest is not read).
function readBody(req: IncomingRequest, max: number): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) {
        req.removeAllListeners("data");
        req.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
