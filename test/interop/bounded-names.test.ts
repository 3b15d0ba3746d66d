import { Code, ConnectError, createClient, type Interceptor } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorInfoSchema } from "../../gen/google/rpc/error_details_pb.js";
import { AdminService, ApiKeyKind, Scope } from "../../gen/otp/v1/admin_pb.js";
import { OtpService } from "../../gen/otp/v1/otp_pb.js";
import type { RunningServer } from "../../src/app.js";
import { testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";

let server: RunningServer;
let admin: ReturnType<typeof createClient<typeof AdminService>>;
let otp: ReturnType<typeof createClient<typeof OtpService>>;
let tenantId: string;

const bearer =
  (token: string): Interceptor =>
  (next) =>
  (req) => {
    req.header.set("authorization", `Bearer ${token}`);
    return next(req);
  };

beforeAll(async () => {
  server = await startTestServer({ ADMIN_TOKEN: testAdminToken });
  const transport = (interceptors: Interceptor[]) =>
    createConnectTransport({ baseUrl: server.url, httpVersion: "1.1", interceptors });
  admin = createClient(AdminService, transport([bearer(testAdminToken)]));
  otp = createClient(OtpService, transport([]));
  tenantId = (await admin.createTenant({ name: "acme" })).tenant?.id ?? "";
});
afterAll(async () => {
  await server?.close();
});

/** The code, reason and field of a refused call; "ok" when it was not refused. */
async function refusal(call: Promise<unknown>): Promise<[Code | "ok", string, string]> {
  try {
    await call;
    return ["ok", "", ""];
  } catch (e) {
    const err = ConnectError.from(e);
    const info = err.findDetails(ErrorInfoSchema)[0];
    return [err.code, info?.reason ?? "", info?.metadata.field ?? ""];
  }
}

// Big enough to matter, small enough for any request-size limit in front of the handlers.
const huge = "x".repeat(20_000);
const unprintable = ["a\0b", "a\r\nX-Injected: 1", "a\nb", "a\tb", "a\u202eevil", "a\u2028b"];

describe("names and scopes are bounded", () => {
  it("refuses tenant names that are empty, huge or hold control characters", async () => {
    for (const name of ["", "   ", huge, "x".repeat(101), ...unprintable]) {
      expect(await refusal(admin.createTenant({ name })), JSON.stringify(name)).toEqual([
        Code.InvalidArgument,
        "TENANT_NAME_INVALID",
        "name",
      ]);
    }
    const made = await admin.createTenant({ name: "  Café Noël 🚀  " });
    expect(made.tenant?.name).toBe("Café Noël 🚀");
  });

  it("refuses API key names that are huge or hold control characters, instead of cutting them", async () => {
    for (const name of [huge, "x".repeat(101), ...unprintable]) {
      const call = admin.createApiKey({
        tenantId,
        kind: ApiKeyKind.SECRET,
        scopes: [Scope.GENERATE],
        name,
      });
      expect(await refusal(call), JSON.stringify(name)).toEqual([
        Code.InvalidArgument,
        "API_KEY_INVALID",
        "name",
      ]);
    }
    const ok = await admin.createApiKey({
      tenantId,
      kind: ApiKeyKind.SECRET,
      scopes: [Scope.GENERATE],
      name: "x".repeat(100),
    });
    expect(ok.key?.name).toBe("x".repeat(100));
  });

  it("takes scopes only from the known set, never more of them than there are", async () => {
    const attempt = (scopes: Scope[]) =>
      refusal(admin.createApiKey({ tenantId, kind: ApiKeyKind.SECRET, scopes }));
    const refused = [Code.InvalidArgument, "API_KEY_INVALID", "scopes"];
    expect(await attempt(Array(10_000).fill(Scope.GENERATE))).toEqual(refused);
    expect(await attempt([Scope.GENERATE, 99 as Scope])).toEqual(refused);
    expect(await attempt([Scope.UNSPECIFIED])).toEqual(refused);
    expect(await attempt([])).toEqual(refused);
    // A repeat within the bound is folded into one.
    const ok = await admin.createApiKey({
      tenantId,
      kind: ApiKeyKind.SECRET,
      scopes: [Scope.GENERATE, Scope.GENERATE, Scope.VERIFY],
    });
    expect(ok.key?.scopes).toEqual([Scope.GENERATE, Scope.VERIFY]);
  });

  it("takes allowed origins only as browsers send them, and a bounded number of them", async () => {
    const attempt = (allowedOrigins: string[]) =>
      refusal(
        admin.createApiKey({
          tenantId,
          kind: ApiKeyKind.PUBLISHABLE,
          scopes: [Scope.GENERATE, Scope.VERIFY],
          allowedOrigins,
        }),
      );
    const refused = [Code.InvalidArgument, "API_KEY_INVALID", "allowed_origins"];
    for (const origin of [
      "https://shop.example.com/",
      "https://shop.example.com/path",
      "https://user:pw@shop.example.com",
      "https://Shop.example.com",
      "javascript:alert(1)",
      "https://shop.example.com\0",
      "https://shop.example.com\r\nX-Injected: 1",
      `https://${"a".repeat(400)}.example.com`,
    ]) {
      expect(await attempt([origin]), JSON.stringify(origin)).toEqual(refused);
    }
    const many = Array.from({ length: 21 }, (_, i) => `https://app${i}.example.com`);
    expect(await attempt(many)).toEqual(refused);
    expect(await attempt(many.slice(0, 20))).toEqual(["ok", "", ""]);
    expect(await attempt(["https://shop.example.com:8443", "http://localhost:3000"])).toEqual([
      "ok",
      "",
      "",
    ]);
  });

  it("refuses TOTP issuers and account names that are huge or hold control characters", async () => {
    for (const issuer of [huge, "x".repeat(65), "Acme:Corp", ...unprintable]) {
      expect(
        await refusal(otp.enrollTotp({ accountName: "ada@example.com", issuer })),
        JSON.stringify(issuer),
      ).toEqual([Code.InvalidArgument, "ISSUER_INVALID", "issuer"]);
    }
    for (const accountName of ["", huge, "x".repeat(129), "ada:x", ...unprintable]) {
      expect(
        await refusal(otp.enrollTotp({ accountName, issuer: "Acme" })),
        JSON.stringify(accountName),
      ).toEqual([Code.InvalidArgument, "ACCOUNT_NAME_INVALID", "account_name"]);
    }
    const ok = await otp.enrollTotp({ accountName: "ada@example.com", issuer: "Acme Café" });
    expect(ok.otpauthUri).toMatch(/^otpauth:\/\/totp\/Acme%20Caf%C3%A9:ada%40example\.com\?/);
  });
});
