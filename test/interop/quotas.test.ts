import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { callJson, errorReason, retryDelaySeconds } from "../support/connect-json.js";
import { testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

const admin = { authorization: `Bearer ${testAdminToken}` };
let server: RunningServer;

beforeAll(async () => {
  server = await startTestServer({
    ADMIN_TOKEN: testAdminToken,
    TRUSTED_PROXIES: "loopback",
    TENANT_QUOTA_GENERATE: "3/1m",
    TENANT_QUOTA_SENDS_PER_CHANNEL: "2/24h",
    RATE_LIMIT_PUBLISHABLE_PER_IP: "2/1m",
  });
});
afterAll(async () => {
  await server?.close();
});

const call = (procedure: string, body: unknown, headers: Record<string, string> = {}) =>
  callJson(server.url, procedure, body, headers);

async function tenantWithKey(
  scopes: string[],
  kind = "API_KEY_KIND_SECRET",
  allowedOrigins: string[] = [],
) {
  const tenant = await call("otp.v1.AdminService/CreateTenant", { name: "quota tenant" }, admin);
  const tenantId = (tenant.body.tenant as { id: string }).id;
  const key = await call(
    "otp.v1.AdminService/CreateApiKey",
    { tenantId, kind, scopes, allowedOrigins },
    admin,
  );
  return { tenantId, auth: { authorization: `Bearer ${key.body.secret as string}` } };
}

describe("tenant quotas", () => {
  it("caps Generate per tenant whatever the caller's address, with the retry delay, and counts usage", async () => {
    const c = await tenantWithKey(["SCOPE_GENERATE", "SCOPE_SEND"]);
    const d = await tenantWithKey(["SCOPE_GENERATE"]);
    const statuses = [];
    for (const ip of ["203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"]) {
      statuses.push(
        (await call("otp.v1.OtpService/Generate", {}, { ...c.auth, "x-forwarded-for": ip })).status,
      );
    }
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await call("otp.v1.OtpService/Generate", {}, c.auth);
    expect([refused.body.code, errorReason(refused.body)]).toEqual([
      "resource_exhausted",
      "RATE_LIMITED",
    ]);
    expect(retryDelaySeconds(refused.body)).toBeGreaterThan(0);
    expect((await call("otp.v1.OtpService/Generate", {}, d.auth)).status).toBe(200);

    const send = () =>
      call(
        "otp.v1.DeliveryService/Send",
        { channel: "CHANNEL_EMAIL", recipient: "q@example.com", text: "hi" },
        c.auth,
      );
    expect([(await send()).status, (await send()).status]).toEqual([200, 200]);
    const third = await send();
    expect(third.body.code).toBe("resource_exhausted");

    const usage = await call(
      "otp.v1.AdminService/GetUsage",
      { tenantId: c.tenantId, days: 1 },
      admin,
    );
    const [today] = usage.body.days as { counters: Record<string, string> }[];
    expect(today?.counters["rpc:Generate"]).toBe("5");
    expect(today?.counters["sends:email"]).toBe("2");
  });

  it("lets a key with SCOPE_ADMIN_READ read its own tenant's usage and no other's", async () => {
    const reader = await tenantWithKey(["SCOPE_GENERATE", "SCOPE_ADMIN_READ"]);
    const other = await tenantWithKey(["SCOPE_GENERATE"]);
    await call("otp.v1.OtpService/Generate", {}, reader.auth);
    const own = await call("otp.v1.AdminService/GetUsage", {}, reader.auth);
    expect(
      (own.body.days as { counters: Record<string, string> }[])[0]?.counters["rpc:Generate"],
    ).toBe("1");
    const foreign = await call(
      "otp.v1.AdminService/GetUsage",
      { tenantId: other.tenantId },
      reader.auth,
    );
    expect([foreign.body.code, errorReason(foreign.body)]).toEqual([
      "not_found",
      "TENANT_NOT_FOUND",
    ]);
    const noScope = await call("otp.v1.AdminService/GetUsage", {}, other.auth);
    expect(noScope.body.code).toBe("permission_denied");
  });

  it("gives publishable keys their own, tighter per-address limit", async () => {
    const pk = await tenantWithKey(["SCOPE_GENERATE", "SCOPE_VERIFY"], "API_KEY_KIND_PUBLISHABLE", [
      "https://shop.example.com",
    ]);
    const headers = {
      ...pk.auth,
      origin: "https://shop.example.com",
      "x-forwarded-for": "198.51.100.9",
    };
    const codes = [];
    for (let i = 0; i < 3; i++) {
      const res = await call(
        "otp.v1.OtpService/Verify",
        { id: crypto.randomUUID(), code: "123456" },
        headers,
      );
      codes.push(errorReason(res.body));
    }
    expect(codes).toEqual(["CHALLENGE_NOT_FOUND", "CHALLENGE_NOT_FOUND", "RATE_LIMITED"]);
  });
});
