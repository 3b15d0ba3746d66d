import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AdminService } from "../../gen/otp/v1/admin_pb.js";
import type { RunningServer } from "../../src/app.js";
import type { ConsoleSecurityEvent } from "../../src/tenancy/console-auth.js";
import { callJson } from "../support/connect-json.js";
import { testAdminToken } from "../support/secrets.js";
import { startTestServer } from "../support/test-server.js";
import { hasChromium, launchChromium, screenshot, type TestBrowser } from "./support/chromium.js";
import {
  callFromPage,
  listedPages,
  openConsole,
  showPage,
  signInConsole,
  watchCsp,
} from "./support/console.js";

// The operator console at /console, driven like a person would.
describe.skipIf(!hasChromium)("the /console operator console", () => {
  let service: RunningServer;
  let browser: TestBrowser;
  const events: ConsoleSecurityEvent[] = [];
  const bearer = { authorization: `Bearer ${testAdminToken}` };

  beforeAll(async () => {
    [service, browser] = await Promise.all([
      startTestServer(
        { ADMIN_TOKEN: testAdminToken, TENANT_QUOTA_GENERATE: "5/24h" },
        { onSecurityEvent: (event) => events.push(event) },
      ),
      launchChromium(),
    ]);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });
  // Every test starts signed out: the browser's pages share one cookie jar.
  beforeEach(async () => {
    await browser.context.clearCookies();
  });

  it("is refused without a session, and with a wrong credential", async () => {
    const page = await browser.newPage();
    await openConsole(page, service.url);
    expect(await page.locator("#sign-in").isVisible()).toBe(true);
    expect(await page.locator("#app").isVisible()).toBe(false);
    expect(await callFromPage(page, "ListTenants", {})).toBe(401);
    await page.fill("#credential", "not-the-token-at-all-but-long-enough");
    await page.click("#sign-in-button");
    await expect
      .poll(() => page.locator("#sign-in-notice").textContent())
      .toContain("not accepted");
    expect(await page.inputValue("#credential")).toBe("");
    expect(events.at(-1)).toMatchObject({
      type: "console.sign_in_failed",
      actor: "unknown",
      source: "127.0.0.0/24",
    });
    await page.close();
  });

  it("signs the operator in, creates a key whose secret shows once, revokes it, and signs out", async () => {
    const page = await browser.newPage();
    const csp = watchCsp(page);
    await openConsole(page, service.url);
    await signInConsole(page, testAdminToken);
    expect(await page.getByTestId("who").textContent()).toContain("Operator");
    // Only the pages the contract supports today are listed; the others appear with their RPCs.
    expect(await listedPages(page)).toContain("tenants");
    // The credential is nowhere in the page, its storage, or a cookie it can read.
    expect(await page.inputValue("#credential")).toBe("");
    const storage = await page.evaluate(
      "[localStorage.length, sessionStorage.length, document.cookie]",
    );
    expect(storage).toEqual([0, 0, ""]);
    const cookies = await browser.context.cookies(service.url);
    expect(cookies).toEqual([
      expect.objectContaining({
        name: "otp_console",
        httpOnly: true,
        sameSite: "Strict",
        path: "/",
      }),
    ]);
    expect(JSON.stringify(cookies)).not.toContain(testAdminToken);

    await showPage(page, "tenants");
    await page.fill("#tenant-name", "Acme");
    await page.click("#create-tenant button[type=submit]");
    await page.locator("[data-testid=tenants] tr.selected", { hasText: "Acme" }).waitFor();

    await page.fill("#key-name", "checkout-backend");
    await page.check("#scope-admin");
    await page.click("#create-key-button");
    const secret = (await page.getByTestId("secret-value").textContent()) ?? "";
    expect(secret).toMatch(/^otp_sk_[0-9a-f]{8}_/);
    const keyId = secret.slice(0, 15);
    await page.locator(`tr[data-key=${keyId}]`).waitFor();
    // The secret works: it is a real key with the scopes asked for.
    const tenantId = (await page.locator("tr.selected").getAttribute("data-tenant")) ?? "";
    const byKey = await callJson(
      service.url,
      "otp.v1.AdminService/ListApiKeys",
      { tenantId },
      { authorization: `Bearer ${secret}` },
    );
    expect(byKey.status).toBe(200);
    await page.click("[data-testid=secret-dismiss]");
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await page.locator(`tr[data-key=${keyId}]`).waitFor();
    expect(await page.content()).not.toContain(secret);

    await page.click(`[data-testid=revoke-${keyId}]`);
    await page.click(`[data-testid=revoke-${keyId}]`);
    await expect
      .poll(() => page.locator(`tr[data-key=${keyId}] [data-testid=key-status]`).textContent())
      .toMatch(/^revoked/);
    const afterRevoke = await callJson(
      service.url,
      "otp.v1.AdminService/ListApiKeys",
      { tenantId },
      { authorization: `Bearer ${secret}` },
    );
    expect(afterRevoke.status).toBe(401);
    await screenshot(page, "console-tenants");

    await page.click("#sign-out");
    await page.locator("#sign-in:not([hidden])").waitFor();
    expect(await callFromPage(page, "ListTenants", {})).toBe(401);
    expect(events.map((e) => e.type)).toEqual(
      expect.arrayContaining(["console.sign_in", "console.sign_out"]),
    );
    expect(JSON.stringify(events)).not.toContain(testAdminToken);
    expect(browser.pageErrors).toEqual([]);
    expect(csp).toEqual([]);
    await page.close();
  });

  it("shows a tenant's own usage, warning at 80 % of a quota and alerting at 100 %", async () => {
    const tenant = await callJson(
      service.url,
      "otp.v1.AdminService/CreateTenant",
      { name: "Globex" },
      bearer,
    );
    const tenantId = (tenant.body.tenant as { id: string }).id;
    const key = await callJson(
      service.url,
      "otp.v1.AdminService/CreateApiKey",
      {
        tenantId,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_GENERATE", "SCOPE_ADMIN"],
        name: "globex",
      },
      bearer,
    );
    const secret = key.body.secret as string;
    const generate = () =>
      callJson(
        service.url,
        "otp.v1.OtpService/Generate",
        {},
        { authorization: `Bearer ${secret}` },
      );
    for (let i = 0; i < 4; i++) expect((await generate()).status).toBe(200);

    const page = await browser.newPage();
    const csp = watchCsp(page);
    await openConsole(page, service.url);
    await signInConsole(page, secret);
    await showPage(page, "tenants");
    expect(await page.getByTestId("who").textContent()).toContain(tenantId);
    // A tenant's session sees its own tenant only, and cannot create tenants.
    expect(await page.locator("[data-testid=tenants] tbody tr").count()).toBe(1);
    expect(await page.locator("#create-tenant").count()).toBe(0);
    const quota = page.getByTestId("quota-tenant_generate");
    await expect.poll(() => quota.getAttribute("data-level")).toBe("warn");
    expect(await quota.textContent()).toContain("4 of 5 today (80 %)");
    const [fill, bar] = await Promise.all([
      quota.locator(".fill").boundingBox(),
      quota.locator(".bar").boundingBox(),
    ]);
    expect((fill?.width ?? 0) / (bar?.width ?? 1)).toBeCloseTo(0.8, 1);
    await screenshot(page, "console-usage-warning");

    expect((await generate()).status).toBe(200);
    await page.locator("[data-testid=usage] button", { hasText: "Refresh" }).click();
    await expect.poll(() => quota.getAttribute("data-level")).toBe("over");
    expect(await quota.textContent()).toContain("Quota reached");
    // Another tenant's keys stay out of reach from this session, page or not.
    const csrf = await page.evaluate(
      async () =>
        ((await (await fetch("/console/session")).json()) as { csrfToken: string }).csrfToken,
    );
    expect(
      await callFromPage(
        page,
        "ListApiKeys",
        { tenantId: "ten_someoneelse00" },
        { "x-csrf-token": csrf },
      ),
    ).toBe(404);
    expect(browser.pageErrors).toEqual([]);
    expect(csp).toEqual([]);
    await page.close();
  });

  // The pages of the RPCs other parts of the contract add: each test runs once its RPC exists.
  const has = (name: string) =>
    (AdminService.method as Record<string, unknown>)[name] !== undefined;

  it.skipIf(!has("watchActivity"))(
    "shows a Generate made from another client in the feed within a second",
    async () => {
      const page = await browser.newPage();
      await openConsole(page, service.url);
      await signInConsole(page, testAdminToken);
      await showPage(page, "activity");
      await expect.poll(() => page.getByTestId("feed-state").textContent()).toBe("live");
      const started = Date.now();
      expect((await callJson(service.url, "otp.v1.OtpService/Generate", {})).status).toBe(200);
      await page
        .locator("[data-testid=feed] li[data-kind=generate]")
        .first()
        .waitFor({ timeout: 1000 });
      expect(Date.now() - started).toBeLessThan(1000);
      const text = (await page.getByTestId("feed").textContent()) ?? "";
      expect(text).not.toMatch(/code/i);
      await page.close();
    },
  );

  it.skipIf(!has("getOverview"))("shows the conversion change after a Verify", async () => {
    const page = await browser.newPage();
    await openConsole(page, service.url);
    await signInConsole(page, testAdminToken);
    await showPage(page, "overview");
    const conversion = page.getByTestId("conversion");
    await conversion.waitFor();
    const before = await conversion.textContent();
    const made = await callJson(service.url, "otp.v1.OtpService/Generate", {});
    await callJson(service.url, "otp.v1.OtpService/Verify", {
      id: made.body.id,
      code: made.body.code,
    });
    await expect.poll(() => conversion.textContent(), { timeout: 8000 }).not.toBe(before);
    await page.close();
  });

  it.skipIf(!has("listAuditEvents"))(
    "shows the audit entry of a key created in the console",
    async () => {
      const page = await browser.newPage();
      await openConsole(page, service.url);
      await signInConsole(page, testAdminToken);
      await showPage(page, "tenants");
      await page.fill("#tenant-name", "Audited");
      await page.click("#create-tenant button[type=submit]");
      await page.locator("[data-testid=tenants] tr.selected", { hasText: "Audited" }).waitFor();
      await page.fill("#key-name", "audited-key");
      await page.click("#create-key-button");
      const secret = (await page.getByTestId("secret-value").textContent()) ?? "";
      const keyId = secret.slice(0, 15);
      await showPage(page, "audit");
      const entry = page.locator("[data-testid=audit-list] li[data-action='key.created']", {
        hasText: keyId,
      });
      await entry.waitFor();
      expect(await page.getByTestId("audit-list").textContent()).not.toContain(secret);
      await page.close();
    },
  );
});
