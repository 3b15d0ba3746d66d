/**
 * The console's sign-in and session calls made by hand, as a browser makes
 * them: same-origin `Origin`, the session cookie, the CSRF token header.
 */
export interface ConsoleSignIn {
  status: number;
  body: Record<string, unknown>;
  /** The raw `Set-Cookie` header, for its attributes. */
  setCookie: string;
  /** The session id from the cookie, or "". */
  sessionId: string;
  /** The cookie's name: `otp_console`, or `__Host-otp_console` where it is Secure. */
  cookieName: string;
  csrfToken: string;
  headers: Headers;
}

/** Signs in to the console at `baseUrl` with `credential`; `headers` add to the browser-like ones. */
export async function consoleSignIn(
  baseUrl: string,
  credential: string,
  headers: Record<string, string> = {},
): Promise<ConsoleSignIn> {
  const res = await fetch(`${baseUrl}/console/session`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: baseUrl,
      "sec-fetch-site": "same-origin",
      ...headers,
    },
    body: JSON.stringify({ credential }),
  });
  const text = await res.text();
  const isJson = (res.headers.get("content-type") ?? "").startsWith("application/json");
  const body = isJson && text !== "" ? (JSON.parse(text) as Record<string, unknown>) : {};
  const setCookie = res.headers.get("set-cookie") ?? "";
  return {
    status: res.status,
    body,
    setCookie,
    sessionId: /^(?:__Host-)?otp_console=([^;]*)/.exec(setCookie)?.[1] ?? "",
    cookieName: /^((?:__Host-)?otp_console)=/.exec(setCookie)?.[1] ?? "otp_console",
    csrfToken: typeof body.csrfToken === "string" ? body.csrfToken : "",
    headers: res.headers,
  };
}

/** The headers of a same-origin call made with a console session. */
export function sessionHeaders(
  baseUrl: string,
  session: { sessionId: string; csrfToken: string; cookieName?: string },
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    cookie: `${session.cookieName ?? "otp_console"}=${session.sessionId}`,
    origin: baseUrl,
    "sec-fetch-site": "same-origin",
    "x-csrf-token": session.csrfToken,
    ...extra,
  };
}
