import { createDeliveryClient } from "@otp/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { createApiKey } from "../support/api-keys.js";
import { startTestServer } from "../support/test-server.js";

const adminToken = "a".repeat(40);

import { hasChromium, launchChromium, screenshot, type TestBrowser } from "./support/chromium.js";
import { bundle, htmlPage, type StaticSite, serveStatic } from "./support/pages.js";

// Pages on a second origin (another port) call the service from Chromium,
// so every call is a real cross-origin request with a CORS preflight.
describe.skipIf(!hasChromium)("browser pages on another origin", () => {
  let site: StaticSite;
  let service: RunningServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    const [crossOrigin, example] = await Promise.all([
      bundle("pages/cross-origin.ts"),
      bundle("pages/browser-example.ts"),
    ]);
    site = await serveStatic({
      "/": {
        contentType: "text/html; charset=utf-8",
        body: htmlPage("CORS check", '<pre id="result">running…</pre>'),
      },
      "/page.js": { contentType: "text/javascript", body: crossOrigin },
      "/example": {
        contentType: "text/html; charset=utf-8",
        body: htmlPage(
          "Sign in (SDK example)",
          `<form id="sign-in">
             <input name="email" type="email" autocomplete="username">
             <input name="code" autocomplete="one-time-code" hidden>
             <button>Continue</button>
             <output name="status"></output>
           </form>`,
          "/example.js",
        ),
      },
      "/example.js": { contentType: "text/javascript", body: example },
    });
    [service, browser] = await Promise.all([
      startTestServer({ CORS_ORIGINS: site.origin, ADMIN_TOKEN: adminToken }),
      launchChromium(),
    ]);
  });

  afterAll(async () => {
    await browser?.close();
    await service?.close();
    await site?.close();
  });

  it("calls the service over gRPC-web and Connect from an allowed origin", async () => {
    const page = await browser.newPage();
    const key = await createApiKey(service.url, adminToken);
    await page.goto(
      `${site.origin}/?api=${encodeURIComponent(service.url)}&key=${encodeURIComponent(key)}`,
    );
    const result = page.locator("#result[data-done]");
    await result.waitFor();
    await screenshot(page, "cors-allowed-origin");
    expect(JSON.parse((await result.textContent()) ?? "")).toEqual([
      {
        protocol: "grpc-web",
        ok: true,
        verified: true,
        errorReason: "ID_INVALID",
        errorCode: "InvalidArgument",
      },
      {
        protocol: "connect",
        ok: true,
        verified: true,
        errorReason: "ID_INVALID",
        errorCode: "InvalidArgument",
      },
    ]);
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it("is refused by the browser from an origin the service does not allow", async () => {
    // Same page, same port, but "localhost" is another origin than "127.0.0.1".
    const page = await browser.newPage();
    await page.goto(`http://localhost:${site.port}/?api=${encodeURIComponent(service.url)}`);
    const result = page.locator("#result[data-done]");
    await result.waitFor();
    const outcomes = JSON.parse((await result.textContent()) ?? "") as { ok: boolean }[];
    expect(outcomes.map((o) => o.ok)).toEqual([false, false]);
    await page.close();
  });

  it("runs sdk/examples/browser-sign-in.ts: sends a code and signs in with it", async () => {
    const page = await browser.newPage();
    await page.goto(`${site.origin}/example?api=${encodeURIComponent(service.url)}`);
    await page.locator("form[data-ready]").waitFor();
    await page.fill("input[name=email]", "linus@example.com");
    await page.click("button");
    const status = page.locator("output[name=status]");
    await expect.poll(() => status.textContent()).toBe("We sent a code to linus@example.com.");

    const delivery = createDeliveryClient({ baseUrl: service.url, protocol: "grpc" });
    const { messages } = await delivery.listOutbox({ recipient: "linus@example.com" });
    const code = /(?<!\d)\d{6}(?!\d)/.exec(messages[0]?.text ?? "")?.[0] ?? "";
    await page.fill("input[name=code]", code);
    await page.click("button");
    await expect.poll(() => status.textContent()).toBe("Signed in.");
    await screenshot(page, "sdk-browser-example");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });
});
