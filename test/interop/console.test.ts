import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { callJson, errorReason } from "../support/connect-json.js";
import { consoleSignIn, sessionHeaders } from "../support/console-session.js";
import { type RedisInstance, startRedis } from "../support/redis-harness.js";
import { productionEnv, testAdminToken } from "../support/secrets.js";
import { type ServerProcess, spawnServer } from "../support/spawn-server.js";

// Two replicas on one Redis, the way the console runs behind a load balancer.
let redis: RedisInstance;
let a: ServerProcess;
let b: ServerProcess;
const bearer = { authorization: `Bearer ${testAdminToken}` };
// Each test signs in from its own documentation address (TRUSTED_PROXIES=loopback),
// so the sign-in limit of one does not spend another's.
let addresses = 0;
const from = () => ({ "x-forwarded-for": `198.51.100.${++addresses}` });

beforeAll(async () => {
  redis = await startRedis();
  const env = {
    REDIS_URL: redis.url,
    OTP_HMAC_SECRET: "c".repeat(40),
    ADMIN_TOKEN: testAdminToken,
    TRUSTED_PROXIES: "loopback",
    CONSOLE_ALLOWED_CIDRS: "127.0.0.0/8, ::1, 198.51.100.0/24",
    RATE_LIMIT_CONSOLE_SIGN_IN: "4/1m",
  };
  [a, b] = await Promise.all([spawnServer(env), spawnServer(env)]);
}, 60_000);

afterAll(async () => {
  for (const server of [a, b]) server?.child.kill("SIGTERM");
  await Promise.all([a?.exited, b?.exited]);
  await redis?.stop();
});

async function tenantWithKey(url: string, name: string, scopes: string[]) {
  const tenant = await callJson(url, "otp.v1.AdminService/CreateTenant", { name }, bearer);
  const tenantId = (tenant.body.tenant as { id: string }).id;
  const key = await callJson(
    url,
    "otp.v1.AdminService/CreateApiKey",
    { tenantId, kind: "API_KEY_KIND_SECRET", scopes, name: `${name} admin` },
    bearer,
  );
  return {
    tenantId,
    secret: key.body.secret as string,
    keyId: (key.body.key as { id: string }).id,
  };
}

describe("console sign-in", () => {
  it("signs the operator in with ADMIN_TOKEN into an HttpOnly SameSite=Strict cookie that lists every tenant", async () => {
    await tenantWithKey(a.url, "Operator view", ["SCOPE_GENERATE"]);
    const session = await consoleSignIn(a.url, testAdminToken, from());
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({ kind: "operator", keyId: "admin" });
    expect(session.sessionId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const attributes = session.setCookie.split(";").map((p) => p.trim());
    expect(attributes).toEqual(expect.arrayContaining(["HttpOnly", "SameSite=Strict", "Path=/"]));
    // Plain HTTP to 127.0.0.1 is the one place a cookie goes without Secure.
    expect(attributes).not.toContain("Secure");
    expect(session.headers.get("cache-control")).toBe("no-store");
    const listed = await callJson(
      a.url,
      "otp.v1.AdminService/ListTenants",
      {},
      sessionHeaders(a.url, session, from()),
    );
    expect(listed.status).toBe(200);
    expect((listed.body.tenants as unknown[]).length).toBeGreaterThan(0);
    // The page can ask who it is after a reload, and gets the same CSRF token.
    const me = await fetch(`${a.url}/console/session`, { headers: sessionHeaders(a.url, session) });
    expect(await me.json()).toMatchObject({ kind: "operator", csrfToken: session.csrfToken });
  });

  it("signs a tenant's admin key in to its own tenant only", async () => {
    const own = await tenantWithKey(a.url, "Own", ["SCOPE_ADMIN"]);
    const other = await tenantWithKey(a.url, "Other", ["SCOPE_GENERATE"]);
    const session = await consoleSignIn(a.url, own.secret, from());
    expect(session.status).toBe(200);
    expect(session.body).toMatchObject({
      kind: "tenant",
      tenantId: own.tenantId,
      keyId: own.keyId,
      scopes: ["admin"],
    });
    const headers = sessionHeaders(a.url, session, from());
    const tenants = await callJson(a.url, "otp.v1.AdminService/ListTenants", {}, headers);
    expect((tenants.body.tenants as { id: string }[]).map((t) => t.id)).toEqual([own.tenantId]);
    const ownKeys = await callJson(
      a.url,
      "otp.v1.AdminService/ListApiKeys",
      { tenantId: own.tenantId },
      headers,
    );
    expect(ownKeys.status).toBe(200);
    const otherKeys = await callJson(
      a.url,
      "otp.v1.AdminService/ListApiKeys",
      { tenantId: other.tenantId },
      headers,
    );
    expect(otherKeys.body.code).toBe("not_found");
    expect(errorReason(otherKeys.body)).toBe("TENANT_NOT_FOUND");
    const revokeOther = await callJson(
      a.url,
      "otp.v1.AdminService/RevokeApiKey",
      { keyId: other.keyId },
      headers,
    );
    expect(errorReason(revokeOther.body)).toBe("API_KEY_NOT_FOUND");
    const newTenant = await callJson(
      a.url,
      "otp.v1.AdminService/CreateTenant",
      { name: "nope" },
      headers,
    );
    expect(newTenant.body.code).toBe("permission_denied");
    expect(errorReason(newTenant.body)).toBe("PERMISSION_DENIED");
  });

  it("gives a key with admin-read a session that reads its usage and manages no keys", async () => {
    const reader = await tenantWithKey(a.url, "Reader", ["SCOPE_ADMIN_READ"]);
    const session = await consoleSignIn(a.url, reader.secret, from());
    const headers = sessionHeaders(a.url, session, from());
    const usage = await callJson(
      a.url,
      "otp.v1.AdminService/GetUsage",
      { tenantId: reader.tenantId },
      headers,
    );
    expect(usage.status).toBe(200);
    const keys = await callJson(
      a.url,
      "otp.v1.AdminService/ListApiKeys",
      { tenantId: reader.tenantId },
      headers,
    );
    expect(keys.body.code).toBe("permission_denied");
    expect(errorReason(keys.body)).toBe("PERMISSION_DENIED");
  });

  it("refuses a wrong credential and a key without an admin scope alike, then locks the address out", async () => {
    const plain = await tenantWithKey(a.url, "Plain", ["SCOPE_GENERATE", "SCOPE_VERIFY"]);
    const address = from();
    const wrong = await consoleSignIn(a.url, "not-the-admin-token-but-long-enough-000", address);
    expect(wrong.status).toBe(401);
    expect(wrong.setCookie).toBe("");
    const notAdmin = await consoleSignIn(a.url, plain.secret, address);
    expect(notAdmin.status).toBe(401);
    expect(notAdmin.body).toEqual(wrong.body);
    await consoleSignIn(a.url, "x", address);
    await consoleSignIn(a.url, "y", address);
    // The limit (4 a minute) counts every attempt: now even the right credential waits.
    const locked = await consoleSignIn(a.url, testAdminToken, address);
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
    expect(locked.setCookie).toBe("");
    // Shared through Redis: the other replica refuses the address too.
    expect((await consoleSignIn(b.url, testAdminToken, address)).status).toBe(429);
    // Failures are security events in the log, without the credential.
    expect(a.stdout()).toContain("console.sign_in_failed");
    expect(a.stdout()).toContain("console.sign_in_limited");
    expect(a.stdout()).not.toContain(plain.secret);
    expect(a.stdout()).not.toContain("not-the-admin-token");
  });

  it("refuses a forged cookie and one whose session was signed out", async () => {
    const forged = { sessionId: "A".repeat(43), csrfToken: "B".repeat(43) };
    const withForged = await callJson(
      a.url,
      "otp.v1.AdminService/ListTenants",
      {},
      sessionHeaders(a.url, forged),
    );
    expect(withForged.status).toBe(403);
    expect(errorReason(withForged.body)).toBe("PERMISSION_DENIED");
    // Even with the CSRF token a forger can compute for an id it made up, there is no session.
    const session = await consoleSignIn(a.url, testAdminToken, from());
    const me = await fetch(`${a.url}/console/session`, {
      headers: sessionHeaders(a.url, { ...session, sessionId: "C".repeat(43) }),
    });
    expect(me.status).toBe(401);
    const out = await fetch(`${a.url}/console/session`, {
      method: "DELETE",
      headers: sessionHeaders(a.url, session),
    });
    expect(out.status).toBe(204);
    expect(out.headers.get("set-cookie")).toContain("Max-Age=0");
    const replayed = await callJson(
      a.url,
      "otp.v1.AdminService/ListTenants",
      {},
      sessionHeaders(a.url, session),
    );
    expect(replayed.status).toBe(401);
    expect(errorReason(replayed.body)).toBe("UNAUTHENTICATED");
  });

  it("refuses cross-site calls: a foreign Origin, a cross-site fetch, no Origin, no CSRF token", async () => {
    const session = await consoleSignIn(a.url, testAdminToken, from());
    const ok = sessionHeaders(a.url, session);
    const cases: [Record<string, string>, string][] = [
      [{ ...ok, origin: "https://evil.example" }, "same origin"],
      [{ ...ok, "sec-fetch-site": "cross-site" }, "same origin"],
      [{ ...ok, "sec-fetch-site": "same-site" }, "same origin"],
      [{ ...ok, "x-csrf-token": "" }, "csrf token"],
      [{ ...ok, "x-csrf-token": "A".repeat(43) }, "csrf token"],
    ];
    const { origin: _origin, ...noOrigin } = ok;
    cases.push([noOrigin, "same origin"]);
    for (const [headers] of cases) {
      const res = await callJson(
        a.url,
        "otp.v1.AdminService/CreateTenant",
        { name: "forged" },
        headers,
      );
      expect(res.status).toBe(403);
      expect(res.body.code).toBe("permission_denied");
      expect(errorReason(res.body)).toBe("PERMISSION_DENIED");
    }
    const crossSignIn = await consoleSignIn(a.url, testAdminToken, {
      ...from(),
      origin: "https://evil.example",
    });
    expect(crossSignIn.status).toBe(403);
    const crossSignOut = await fetch(`${a.url}/console/session`, {
      method: "DELETE",
      headers: { ...ok, "x-csrf-token": "" },
    });
    expect(crossSignOut.status).toBe(403);
    // None of it changed anything: the session still works.
    expect((await callJson(a.url, "otp.v1.AdminService/ListTenants", {}, ok)).status).toBe(200);
  });

  it("ends the session a browser still holds when it signs in again", async () => {
    const first = await consoleSignIn(a.url, testAdminToken, from());
    const second = await consoleSignIn(a.url, testAdminToken, {
      ...from(),
      cookie: `otp_console=${first.sessionId}`,
    });
    expect(second.sessionId).not.toBe(first.sessionId);
    const old = await callJson(
      a.url,
      "otp.v1.AdminService/ListTenants",
      {},
      sessionHeaders(a.url, first),
    );
    expect(old.status).toBe(401);
    expect(errorReason(old.body)).toBe("UNAUTHENTICATED");
    expect(
      (await callJson(a.url, "otp.v1.AdminService/ListTenants", {}, sessionHeaders(a.url, second)))
        .status,
    ).toBe(200);
  });

  it("shares sessions between replicas, and a sign-out on one ends it on both", async () => {
    const session = await consoleSignIn(a.url, testAdminToken, from());
    const onB = sessionHeaders(b.url, session);
    expect((await callJson(b.url, "otp.v1.AdminService/ListTenants", {}, onB)).status).toBe(200);
    expect(
      (await fetch(`${b.url}/console/session`, { method: "DELETE", headers: onB })).status,
    ).toBe(204);
    expect(
      (await callJson(a.url, "otp.v1.AdminService/ListTenants", {}, sessionHeaders(a.url, session)))
        .status,
    ).toBe(401);
  });

  it("ends a tenant's session when its key is revoked", async () => {
    const own = await tenantWithKey(a.url, "Revoked", ["SCOPE_ADMIN"]);
    const session = await consoleSignIn(a.url, own.secret, from());
    expect(
      (
        await callJson(
          a.url,
          "otp.v1.AdminService/ListApiKeys",
          { tenantId: own.tenantId },
          sessionHeaders(a.url, session),
        )
      ).status,
    ).toBe(200);
    await callJson(a.url, "otp.v1.AdminService/RevokeApiKey", { keyId: own.keyId }, bearer);
    // The revocation reaches the other replica's key cache through the change feed within a second.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = await callJson(
      b.url,
      "otp.v1.AdminService/ListApiKeys",
      { tenantId: own.tenantId },
      sessionHeaders(b.url, session),
    );
    expect(after.status).toBe(401);
    expect(errorReason(after.body)).toBe("UNAUTHENTICATED");
  });

  it("refuses addresses outside CONSOLE_ALLOWED_CIDRS for the page, sign-in and cookie calls", async () => {
    const session = await consoleSignIn(a.url, testAdminToken, from());
    const outside = { "x-forwarded-for": "203.0.113.9" };
    expect((await fetch(`${a.url}/console`, { headers: outside })).status).toBe(403);
    expect((await consoleSignIn(a.url, testAdminToken, outside)).status).toBe(403);
    const call = await callJson(
      a.url,
      "otp.v1.AdminService/ListTenants",
      {},
      sessionHeaders(a.url, session, outside),
    );
    expect(call.status).toBe(403);
    expect(errorReason(call.body)).toBe("PERMISSION_DENIED");
    // A bearer token is no console session: the allow-list does not apply to it.
    expect(
      (await callJson(a.url, "otp.v1.AdminService/ListTenants", {}, { ...bearer, ...outside }))
        .status,
    ).toBe(200);
  });

  it("serves the page with a strict content security policy", async () => {
    const page = await fetch(`${a.url}/console`, { headers: from() });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const script = await fetch(`${a.url}/console/app.js`, { headers: from() });
    expect(script.status).toBe(200);
    expect(await script.text()).not.toMatch(/localStorage|sessionStorage/);
  }, 60_000);
});

describe("console in production", () => {
  it("is off without TLS in front, says so, and leaves AdminService to bearer tokens", async () => {
    const server = await spawnServer(productionEnv());
    try {
      expect(server.stdout()).toContain("console    OFF");
      const page = await fetch(`${server.url}/console`);
      expect(page.status).toBe(503);
      expect(await page.text()).toContain("CONSOLE_TRUST_PROXY_TLS=true");
      expect((await consoleSignIn(server.url, testAdminToken)).status).toBe(503);
      expect(
        (await callJson(server.url, "otp.v1.AdminService/ListTenants", {}, bearer)).status,
      ).toBe(200);
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  }, 60_000);

  it("behind a TLS-terminating proxy, signs in with a Secure cookie", async () => {
    const server = await spawnServer({ ...productionEnv(), CONSOLE_TRUST_PROXY_TLS: "true" });
    try {
      const session = await consoleSignIn(server.url, testAdminToken);
      expect(session.status).toBe(200);
      expect(session.setCookie.split(";").map((p) => p.trim())).toEqual(
        expect.arrayContaining(["HttpOnly", "SameSite=Strict", "Secure", "Path=/"]),
      );
      // Where it is Secure the cookie is __Host-: no Domain, Path=/, set over HTTPS only.
      expect(session.cookieName).toBe("__Host-otp_console");
      expect(session.setCookie).not.toMatch(/domain=/i);
      const plainName = await callJson(
        server.url,
        "otp.v1.AdminService/ListTenants",
        {},
        sessionHeaders(server.url, { ...session, cookieName: "otp_console" }),
      );
      expect(plainName.status).toBe(401);
      const headers = sessionHeaders(server.url, session);
      const listed = await callJson(server.url, "otp.v1.AdminService/ListTenants", {}, headers);
      expect(listed.status).toBe(200);
      // A session is for AdminService only: it is no API key.
      const generate = await callJson(server.url, "otp.v1.OtpService/Generate", {}, headers);
      expect(generate.status).toBe(401);
      expect(errorReason(generate.body)).toBe("UNAUTHENTICATED");
    } finally {
      server.child.kill("SIGTERM");
      await server.exited;
    }
  }, 60_000);
});
