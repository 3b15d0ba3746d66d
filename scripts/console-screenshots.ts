// The console's screenshots in docs/screenshots/, taken from a real service
// and a real Chromium (`npm run screenshots`; not part of the test run):
// the sign-in, then every page the console lists for the operator, the
// secret of a new key shown once, and a tenant's own view with a quota
// warning. Pages appear here as soon as their RPCs are in the contract.
import { mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { launchChromium } from "../test/browser/support/chromium.js";
import {
  listedPages,
  openConsole,
  showPage,
  signInConsole,
} from "../test/browser/support/console.js";
import { callJson } from "../test/support/connect-json.js";
import { testAdminToken } from "../test/support/secrets.js";
import { startTestServer } from "../test/support/test-server.js";

const out = fileURLToPath(new URL("../docs/screenshots/", import.meta.url));
const service = await startTestServer({
  ADMIN_TOKEN: testAdminToken,
  TENANT_QUOTA_GENERATE: "25/24h",
});
const browser = await launchChromium();
const admin = { authorization: `Bearer ${testAdminToken}` };
const call = (procedure: string, body: unknown, headers: Record<string, string>) =>
  callJson(service.url, `otp.v1.${procedure}`, body, headers);

try {
  await mkdir(out, { recursive: true });
  // Some tenants, keys and traffic to show.
  const tenants: { id: string; secret: string }[] = [];
  for (const name of ["Acme Shop", "Globex Bank", "Initech"]) {
    const tenant = await call("AdminService/CreateTenant", { name }, admin);
    const id = (tenant.body.tenant as { id: string }).id;
    const key = await call(
      "AdminService/CreateApiKey",
      {
        tenantId: id,
        kind: "API_KEY_KIND_SECRET",
        scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY", "SCOPE_ADMIN"],
        name: "backend",
      },
      admin,
    );
    await call(
      "AdminService/CreateApiKey",
      {
        tenantId: id,
        kind: "API_KEY_KIND_PUBLISHABLE",
        scopes: ["SCOPE_GENERATE", "SCOPE_VERIFY"],
        allowedOrigins: ["https://shop.example.com"],
        name: "web",
      },
      admin,
    );
    tenants.push({ id, secret: key.body.secret as string });
  }
  const [acme] = tenants;
  if (acme === undefined) throw new Error("no tenant");
  for (let i = 0; i < 21; i++) {
    const made = await call("OtpService/Generate", {}, { authorization: `Bearer ${acme.secret}` });
    if (i % 3 !== 0) {
      await call(
        "OtpService/Verify",
        { id: made.body.id, code: made.body.code },
        { authorization: `Bearer ${acme.secret}` },
      );
    }
  }

  const page = await browser.newPage();
  const shoot = (name: string) =>
    page.screenshot({ path: `${out}console-${name}.png`, fullPage: true, animations: "disabled" });
  await openConsole(page, service.url);
  await shoot("sign-in");
  await signInConsole(page, testAdminToken);
  for (const id of await listedPages(page)) {
    await showPage(page, id);
    await page.waitForTimeout(700);
    await shoot(id);
  }
  await showPage(page, "tenants");
  await page.locator("[data-testid=key-table][data-loaded]").waitFor();
  await page.fill("#key-name", "reporting");
  await page.check("#scope-admin-read");
  await page.click("#create-key-button");
  await page.getByTestId("secret-value").waitFor();
  await shoot("key-created");
  await page.click("#sign-out");

  await signInConsole(page, acme.secret);
  await page.locator("[data-testid=usage][data-loaded]").waitFor();
  await page.waitForTimeout(300);
  await shoot("tenant-usage");
  console.log(`screenshots: wrote ${out}`);
} finally {
  await browser.close();
  await service.close();
}
