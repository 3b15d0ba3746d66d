import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { fileURLToPath } from "node:url";
import { type BrowserContext, chromium, type Page } from "playwright-core";

/** Debian's Chromium, which .ci/run installs; CHROMIUM_PATH overrides it. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** False where Chromium is missing (SKIP_BROWSER_INSTALL): the browser tests skip. */
export const hasChromium = existsSync(chromiumPath);

// The flags checked on our machines (TOOLCHAIN.md): without the background
// networking ones, Chromium keeps dialling Google's hosts, which this
// network refuses.
const flags = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** Where screenshots go: test-results/browser/, kept by CI as artifacts (gitignored). */
export const screenshotDir = fileURLToPath(
  new URL("../../../test-results/browser/", import.meta.url),
);

/** A Chromium with a fresh profile, closed and deleted by `close()`. */
export interface TestBrowser {
  context: BrowserContext;
  /** Opens a page that fails the test on any uncaught page error. */
  newPage(): Promise<Page>;
  /** Errors the pages threw, for assertions. */
  pageErrors: Error[];
  close(): Promise<void>;
}

/** Starts Chromium headless with a new, empty user-data directory. */
export async function launchChromium(): Promise<TestBrowser> {
  const userDataDir = await mkdtemp(path.join(tmpdir(), "otp-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath,
    args: flags,
    viewport: { width: 1180, height: 820 },
    deviceScaleFactor: 1,
    locale: "en-US",
    timezoneId: "UTC",
  });
  context.setDefaultTimeout(10_000);
  const pageErrors: Error[] = [];
  return {
    context,
    pageErrors,
    async newPage() {
      const page = await context.newPage();
      page.on("pageerror", (err) => pageErrors.push(err));
      return page;
    },
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Saves a full-page screenshot as test-results/browser/<name>.png and returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(screenshotDir, { recursive: true });
  const file = path.join(screenshotDir, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: "disabled" });
  return file;
}
