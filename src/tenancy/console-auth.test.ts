import { afterEach, describe, expect, it } from "vitest";
import { parseLimit } from "../config/index.js";
import { createMemoryStore } from "../store/memory/memory-store.js";
import { type AdminStore, createMemoryAdminStore, type ScopeName } from "./admin-store.js";
import { generateApiKey } from "./api-key.js";
import { type ConsoleSecurityEvent, createConsoleAuth, hashSessionId } from "./console-auth.js";
import { createMemoryConsoleSessionStore } from "./console-session-store.js";

const token = "operator-token-for-console-tests-0123456789";
const stores: { close(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
});

async function setUp(limit = "off") {
  let nowMs = 1_000_000;
  const clock = () => nowMs;
  const admin = createMemoryAdminStore();
  const limits = createMemoryStore();
  stores.push(limits);
  const sessions = createMemoryConsoleSessionStore(clock);
  const events: ConsoleSecurityEvent[] = [];
  const auth = createConsoleAuth({
    sessions,
    admin,
    adminToken: token,
    limits,
    signInLimit: limit === "off" ? "off" : parseLimit(limit),
    idleMs: 60_000,
    maxMs: 600_000,
    now: clock,
    onSecurityEvent: (event) => events.push(event),
  });
  return { auth, admin, sessions, events, advance: (ms: number) => (nowMs += ms) };
}

async function keyWith(admin: AdminStore, scopes: ScopeName[]) {
  if ((await admin.getTenant("ten_a")) === undefined) {
    await admin.createTenant({ id: "ten_a", name: "A", createdAtMs: 1 });
  }
  const made = generateApiKey("secret");
  const record = {
    id: made.id,
    tenantId: "ten_a",
    kind: "secret" as const,
    scopes,
    allowedOrigins: [],
    name: "k",
    createdAtMs: 1,
    revokedAtMs: 0,
    hash: made.hash,
  };
  await admin.createApiKey(record);
  return made;
}

describe("console sign-in", () => {
  it("opens an operator session for ADMIN_TOKEN and a tenant session for an admin key", async () => {
    const { auth, admin, sessions } = await setUp();
    const operator = await auth.signIn(token, "203.0.113.7");
    if (!operator.ok) throw new Error("refused");
    expect(operator.session).toMatchObject({ kind: "operator", tenantId: "", keyId: "admin" });
    // Only the hash of the id is a key in the store.
    expect(await sessions.touch(operator.sessionId, 1_000_000, 60_000)).toBeUndefined();
    expect(
      await sessions.touch(hashSessionId(operator.sessionId), 1_000_000, 60_000),
    ).toBeDefined();
    const key = await keyWith(admin, ["generate", "admin"]);
    const tenant = await auth.signIn(key.secret, "203.0.113.7");
    if (!tenant.ok) throw new Error("refused");
    expect(tenant.session).toMatchObject({
      kind: "tenant",
      tenantId: "ten_a",
      keyId: key.id,
      scopes: ["admin"],
    });
    expect(await auth.resolve(tenant.sessionId)).toMatchObject({ keyId: key.id });
  });

  it("refuses a key without an admin scope, a publishable key and a wrong token alike", async () => {
    const { auth, admin, events } = await setUp();
    const plain = await keyWith(admin, ["generate", "verify"]);
    const publishable = generateApiKey("publishable");
    for (const credential of [plain.secret, publishable.secret, "wrong", "x".repeat(5000)]) {
      expect(await auth.signIn(credential, "203.0.113.7")).toEqual({
        ok: false,
        reason: "bad_credential",
      });
    }
    expect(events.map((e) => e.reason)).toEqual([
      "not_admin_key",
      "bad_credential",
      "bad_credential",
      "bad_credential",
    ]);
    expect(events[0]).toMatchObject({
      actor: plain.id,
      tenantId: "ten_a",
      source: "203.0.113.0/24",
    });
    expect(JSON.stringify(events)).not.toContain(plain.secret);
  });

  it("counts every attempt against the address's limit, so failures lock it out", async () => {
    const { auth, events } = await setUp("2/1m");
    await auth.signIn("wrong", "198.51.100.4");
    await auth.signIn("wrong again", "198.51.100.4");
    const locked = await auth.signIn(token, "198.51.100.4");
    expect(locked).toMatchObject({ ok: false, reason: "rate_limited" });
    expect(events.at(-1)).toMatchObject({
      type: "console.sign_in_limited",
      source: "198.51.100.0/24",
    });
    // Another address has its own budget.
    expect((await auth.signIn(token, "198.51.100.77")).ok).toBe(true);
    expect((await auth.signIn(token, "192.0.2.1")).ok).toBe(true);
  });

  it("ends a session when idle, at its absolute end, on sign-out, and when its key is revoked", async () => {
    const { auth, admin, advance } = await setUp();
    const idle = await auth.signIn(token, "192.0.2.1");
    if (!idle.ok) throw new Error("refused");
    advance(59_000);
    expect(await auth.resolve(idle.sessionId)).toBeDefined();
    advance(61_000);
    expect(await auth.resolve(idle.sessionId)).toBeUndefined();

    const busy = await auth.signIn(token, "192.0.2.1");
    if (!busy.ok) throw new Error("refused");
    // Used every 50 s, never idle, it still ends 10 minutes after sign-in.
    for (let i = 0; i < 11; i++) {
      advance(50_000);
      expect(await auth.resolve(busy.sessionId)).toBeDefined();
    }
    advance(50_000);
    expect(await auth.resolve(busy.sessionId)).toBeUndefined();

    const ended = await auth.signIn(token, "192.0.2.1");
    if (!ended.ok) throw new Error("refused");
    await auth.signOut(ended.sessionId, "192.0.2.1");
    expect(await auth.resolve(ended.sessionId)).toBeUndefined();

    const key = await keyWith(admin, ["admin"]);
    const tenant = await auth.signIn(key.secret, "192.0.2.1");
    if (!tenant.ok) throw new Error("refused");
    await admin.revokeApiKey(key.id, 5);
    expect(await auth.resolve(tenant.sessionId)).toBeUndefined();
  });

  it("binds the CSRF token to its session", async () => {
    const { auth } = await setUp();
    const one = await auth.signIn(token, "192.0.2.1");
    const two = await auth.signIn(token, "192.0.2.1");
    if (!one.ok || !two.ok) throw new Error("refused");
    expect(auth.checkCsrf(one.sessionId, one.csrfToken)).toBe(true);
    expect(auth.checkCsrf(one.sessionId, two.csrfToken)).toBe(false);
    expect(auth.checkCsrf(one.sessionId, "")).toBe(false);
    expect(one.csrfToken).not.toContain(one.sessionId);
  });
});
