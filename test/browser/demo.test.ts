import { copyFile, mkdir } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningServer } from "../../src/app.js";
import { startTestServer } from "../support/test-server.js";
import { hasChromium, launchChromium, screenshot, type TestBrowser } from "./support/chromium.js";

// The sign-in page at /demo, driven like a person would: type an address,
// read the code from the developer outbox panel, type it.
describe.skipIf(!hasChromium)("the /demo sign-in page", () => {
  let service: RunningServer;
  let browser: TestBrowser;

  beforeAll(async () => {
    [service, browser] = await Promise.all([startTestServer(), launchChromium()]);
  });
  afterAll(async () => {
    await browser?.close();
    await service?.close();
  });

  async function open(query = "", url = service.url): Promise<Page> {
    const page = await browser.newPage();
    await page.goto(`${url}/demo${query}`);
    await page.locator("body[data-ready=true]").waitFor();
    return page;
  }

  /** Asks for a code and returns it, read from the outbox panel. */
  async function requestCode(page: Page, recipient: string): Promise<string> {
    await page.fill("#recipient", recipient);
    await page.click("#send-code");
    await page.locator("[data-step=verify]").waitFor();
    const code = page.locator("[data-testid=outbox-message]").first().getByTestId("outbox-code");
    await code.waitFor();
    return (await code.textContent()) ?? "";
  }

  function notice(page: Page) {
    return page.locator("#notice-text");
  }

  it("signs in with the code from the outbox", async () => {
    const page = await open();
    await expect.poll(() => page.locator("#outbox").isVisible()).toBe(true);
    const code = await requestCode(page, "Ada@Example.com");
    expect(code).toMatch(/^\d{6}$/);
    expect(await page.locator("#sent-to").textContent()).toBe("ada@example.com");
    await expect
      .poll(() => page.locator("#expiry").textContent())
      .toMatch(/^Code expires in [01]:\d\d$/);
    const codeSent = await screenshot(page, "demo-code-sent");
    if (process.env.UPDATE_DEMO_SCREENSHOT === "1") {
      // The README's picture: `UPDATE_DEMO_SCREENSHOT=1 npx vitest run test/browser/demo.test.ts`.
      const docs = fileURLToPath(new URL("../../docs/", import.meta.url));
      await mkdir(docs, { recursive: true });
      await copyFile(codeSent, `${docs}demo.png`);
    }

    await page.fill("#code", code);
    await page.click("#verify-code");
    await page.locator("[data-step=done]").waitFor();
    expect(await page.locator("#signed-in-as").textContent()).toBe("ada@example.com");
    await screenshot(page, "demo-signed-in");
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it("explains a wrong code, the last attempt, and lets the person get a new code", async () => {
    const page = await open("?attempts=2");
    const code = await requestCode(page, "+1 415 555 0100");
    expect(await page.locator("#sent-to").textContent()).toBe("+14155550100");
    const wrong = code === "000000" ? "111111" : "000000";

    await page.fill("#code", wrong);
    await page.click("#verify-code");
    await expect
      .poll(() => notice(page).textContent())
      .toBe("That code isn't right. 1 attempt left.");
    expect(await page.locator("#notice").getAttribute("data-kind")).toBe("error");
    await screenshot(page, "demo-wrong-code");

    await page.fill("#code", wrong);
    await page.click("#verify-code");
    await expect.poll(() => notice(page).textContent()).toMatch(/that was the last attempt/);
    await page.fill("#code", code);
    await page.click("#verify-code");
    await expect.poll(() => notice(page).textContent()).toMatch(/^Too many wrong attempts/);
    await screenshot(page, "demo-attempts-exhausted");

    // "Send a new code" starts a new challenge for the same number.
    await page.click("#notice-action");
    await expect.poll(() => page.locator("#notice").isHidden()).toBe(true);
    const fresh = page.locator("[data-testid=outbox-message]").first().getByTestId("outbox-code");
    await expect.poll(() => fresh.textContent()).not.toBe(code);
    await page.fill("#code", (await fresh.textContent()) ?? "");
    await page.click("#verify-code");
    await page.locator("[data-step=done]").waitFor();
    expect(browser.pageErrors).toEqual([]);
    await page.close();
  });

  it("explains an expired code", async () => {
    const page = await open("?ttl=1");
    const code = await requestCode(page, "expired@example.com");
    await page.locator("#expiry[data-expired=true]").waitFor();
    await page.fill("#code", code);
    await page.click("#verify-code");
    await expect
      .poll(() => notice(page).textContent())
      .toBe("This code has expired. Request a new code to continue.");
    await screenshot(page, "demo-expired");
    await page.close();
  });

  it("explains an address it cannot read without calling the service", async () => {
    const page = await open();
    await page.fill("#recipient", "not an address");
    await page.click("#send-code");
    await expect.poll(() => notice(page).textContent()).toMatch(/^Enter an email address/);
    expect(await page.locator("#recipient").getAttribute("aria-invalid")).toBe("true");
    await page.close();
  });

  it("explains a rate limit with the time to wait", async () => {
    const limited = await startTestServer({ RATE_LIMIT_GENERATE_PER_IP: "1/1m" });
    try {
      const page = await open("", limited.url);
      await requestCode(page, "busy@example.com");
      await page.click("#change-recipient");
      await page.fill("#recipient", "busy@example.com");
      await page.click("#send-code");
      await expect
        .poll(() => notice(page).textContent())
        .toMatch(/^Too many requests from your network\. Try again in (\d+ s|1 min)\.$/);
      expect(await page.locator("#notice").getAttribute("data-kind")).toBe("warning");
      await screenshot(page, "demo-rate-limited");
      await page.close();
    } finally {
      await limited.close();
    }
  });
});
