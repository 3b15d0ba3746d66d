// The console's sign-in, against the service's own /console/session. The
// credential goes out once, in the body of the sign-in request, and is never
// kept: the session lives in an HttpOnly cookie the page cannot read, and
// the CSRF token only in this module's memory (a reload asks for it again).

/** Who is signed in, as /console/session says. */
export interface SessionInfo {
  kind: "operator" | "tenant";
  tenantId: string;
  keyId: string;
  scopes: string[];
  expiresAt: string;
}

/** Why sign-in failed. */
export type SignInFailure =
  | { reason: "bad_credential" }
  | { reason: "rate_limited"; retryAfterSeconds: number }
  | { reason: "refused"; status: number };

const path = "/console/session";
let csrfToken = "";

/** The CSRF token of the current session, sent as `x-csrf-token` with every call. */
export function currentCsrfToken(): string {
  return csrfToken;
}

function remember(body: SessionInfo & { csrfToken: string }): SessionInfo {
  csrfToken = body.csrfToken;
  const { csrfToken: _token, ...info } = body;
  return info;
}

/** The current session, or undefined when there is none. */
export async function currentSession(): Promise<SessionInfo | undefined> {
  const res = await fetch(path, { credentials: "same-origin", cache: "no-store" });
  if (res.status !== 200) return undefined;
  return remember(await res.json());
}

/** Exchanges a credential for a session. */
export async function signIn(credential: string): Promise<SessionInfo | SignInFailure> {
  const res = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ credential }),
  });
  if (res.status === 200) return remember(await res.json());
  if (res.status === 401) return { reason: "bad_credential" };
  if (res.status === 429) {
    const body = (await res.json()) as { retryAfterSeconds?: number };
    return { reason: "rate_limited", retryAfterSeconds: body.retryAfterSeconds ?? 60 };
  }
  return { reason: "refused", status: res.status };
}

/** Ends the session on the server and forgets the CSRF token. */
export async function signOut(): Promise<void> {
  await fetch(path, {
    method: "DELETE",
    credentials: "same-origin",
    headers: { "x-csrf-token": csrfToken },
  });
  csrfToken = "";
}
